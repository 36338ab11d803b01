/* Reset, vector table and fault handlers of the STM32F405 (Cortex-M4F). */
#include <stdint.h>

#include "board.h"

extern uint32_t _stack_top, _data_load, _data_start, _data_end, _bss_start, _bss_end;
extern int main(void);
void Reset_Handler(void);
void SysTick_Handler(void);
void USART1_IRQHandler(void);
void USART2_IRQHandler(void);

/* Count of faults since reset: a debugger can read it after a hang. */
volatile uint32_t fault_count;

static void Default_Handler(void)
{
    /* An unexpected exception: stop here (the watchdog of a real board would
       reset it; the HIL link monitor sees the heartbeats stop). */
    fault_count++;
    for (;;) {
        wait_for_interrupt();
    }
}

void Reset_Handler(void)
{
    /* Floating-point unit on (CP10, CP11 full access) before any FP code. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n isb" ::: "memory");
    uint32_t *src = &_data_load, *dst = &_data_start;
    while (dst < &_data_end) *dst++ = *src++;
    for (dst = &_bss_start; dst < &_bss_end; dst++) *dst = 0;
    main();
    for (;;) {
        wait_for_interrupt();
    }
}

#define IRQ_COUNT 82 /* STM32F405 peripheral interrupts */

/* Every slot defaults to Default_Handler, then the used ones are named. */
#pragma GCC diagnostic ignored "-Woverride-init"

__attribute__((section(".isr_vector"), used))
static void (*const vector_table[16 + IRQ_COUNT])(void) = {
    [2 ... 16 + IRQ_COUNT - 1] = Default_Handler,
    [0] = (void (*)(void))(uintptr_t)&_stack_top,
    [1] = Reset_Handler,
    [15] = SysTick_Handler,
    [16 + USART1_IRQn] = USART1_IRQHandler,
    [16 + USART2_IRQn] = USART2_IRQHandler,
};
