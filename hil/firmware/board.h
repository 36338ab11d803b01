/* STM32F405 registers used by the firmware (RM0090), and the board's clock.
 *
 * Only what this firmware touches: RCC enables, GPIO alternate functions for
 * the UART pins, USART1/USART2, SysTick, NVIC, SCB.  Under QEMU RCC and GPIO
 * are not emulated (writes are ignored, reads give 0), so the firmware writes
 * them but never waits on a status bit of theirs.
 */
#ifndef PROSPECTOR_FW_BOARD_H
#define PROSPECTOR_FW_BOARD_H

#include <stdint.h>

/* Core clock.  QEMU's netduinoplus2 runs SysTick from a 168 MHz sysclk.  A
   real board left on its reset clock (HSI) runs at 16 MHz; build with
   CPU_HZ=16000000 for it (see hil/README.md). */
#ifndef CPU_HZ
#define CPU_HZ 168000000u
#endif
/* Bus clock of both USARTs, for the baud-rate register (ignored by QEMU). */
#ifndef PCLK_HZ
#define PCLK_HZ 16000000u
#endif
/* Input clock of TIM2, the microsecond counter.  QEMU's STM32 timer model
   counts at 1 GHz; a real board on HSI with APB1 undivided counts at 16 MHz. */
#ifndef TIMER_HZ
#define TIMER_HZ 1000000000u
#endif
#ifndef UART_BAUD
#define UART_BAUD 115200u
#endif

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* RCC */
#define RCC_BASE        0x40023800u
#define RCC_AHB1ENR     REG32(RCC_BASE + 0x30)
#define RCC_APB1ENR     REG32(RCC_BASE + 0x40)
#define RCC_APB2ENR     REG32(RCC_BASE + 0x44)
#define RCC_AHB1ENR_GPIOAEN  (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB1ENR_TIM2EN   (1u << 0)
#define RCC_APB2ENR_USART1EN (1u << 4)

/* GPIOA: USART1 on PA9 (TX) / PA10 (RX), USART2 on PA2 (TX) / PA3 (RX), AF7. */
#define GPIOA_BASE      0x40020000u
#define GPIOA_MODER     REG32(GPIOA_BASE + 0x00)
#define GPIOA_AFRL      REG32(GPIOA_BASE + 0x20)
#define GPIOA_AFRH      REG32(GPIOA_BASE + 0x24)

/* USART (same layout for USART1 and USART2) */
#define USART1_BASE     0x40011000u
#define USART2_BASE     0x40004400u
#define USART_SR(b)     REG32((b) + 0x00)
#define USART_DR(b)     REG32((b) + 0x04)
#define USART_BRR(b)    REG32((b) + 0x08)
#define USART_CR1(b)    REG32((b) + 0x0C)
#define USART_SR_ORE    (1u << 3)
#define USART_SR_RXNE   (1u << 5)
#define USART_SR_TXE    (1u << 7)
#define USART_CR1_RE    (1u << 2)
#define USART_CR1_TE    (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_TXEIE (1u << 7)
#define USART_CR1_UE    (1u << 13)

#define USART1_IRQn     37
#define USART2_IRQn     38

/* TIM2: 32-bit general-purpose timer */
#define TIM2_BASE       0x40000000u
#define TIM2_CR1        REG32(TIM2_BASE + 0x00)
#define TIM2_EGR        REG32(TIM2_BASE + 0x14)
#define TIM2_CNT        REG32(TIM2_BASE + 0x24)
#define TIM2_PSC        REG32(TIM2_BASE + 0x28)
#define TIM2_ARR        REG32(TIM2_BASE + 0x2C)

/* SysTick */
#define SYST_CSR        REG32(0xE000E010u)
#define SYST_RVR        REG32(0xE000E014u)
#define SYST_CVR        REG32(0xE000E018u)

/* NVIC and SCB */
#define NVIC_ISER(n)    REG32(0xE000E100u + 4u * (n))
#define NVIC_IPR_BYTE(n) (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SCB_AIRCR       REG32(0xE000ED0Cu)
#define SCB_CPACR       REG32(0xE000ED88u)

static inline void irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void wait_for_interrupt(void) { __asm volatile("wfi" ::: "memory"); }

static inline void nvic_enable(int irqn)
{
    NVIC_ISER(irqn >> 5) = 1u << (irqn & 31);
}

#endif
