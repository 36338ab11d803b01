/* Board time: TIM2 counts microseconds (32 bits, extended to 64 here);
 * SysTick only wakes the main loop every millisecond.
 *
 * Time is read from a counter rather than counted in interrupts: under QEMU
 * a busy emulator delivers the 1 kHz SysTick late and merges ticks (a tick
 * counter fell 27 % behind the host clock under heavy serial traffic), while
 * TIM2's counter follows the emulator's virtual clock exactly.
 */
#include "timebase.h"

#include "board.h"

volatile uint32_t tick_pending;
static uint32_t last_count, high_word;

void timebase_init(void)
{
    RCC_APB1ENR |= RCC_APB1ENR_TIM2EN;
    TIM2_PSC = TIMER_HZ / 1000000u - 1u; /* 1 MHz */
    TIM2_ARR = 0xFFFFFFFFu;
    TIM2_EGR = 1u;                       /* load the prescaler now */
    TIM2_CR1 = 1u;                       /* count */
    SYST_RVR = CPU_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

void SysTick_Handler(void)
{
    (void)board_time_us(); /* keeps the 64-bit extension current */
    tick_pending = 1;
}

uint64_t board_time_us(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask" : "=r"(primask));
    irq_disable();
    uint32_t count = TIM2_CNT;
    if (count < last_count) high_word++;
    last_count = count;
    uint64_t t = ((uint64_t)high_word << 32) | count;
    if (!primask) irq_enable();
    return t;
}

uint32_t board_time_ms(void)
{
    return (uint32_t)(board_time_us() / 1000u);
}
