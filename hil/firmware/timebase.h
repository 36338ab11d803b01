/* Board time from SysTick: a 1 kHz tick plus the counter for microseconds. */
#ifndef PROSPECTOR_FW_TIMEBASE_H
#define PROSPECTOR_FW_TIMEBASE_H
#include <stdint.h>

void timebase_init(void);
uint32_t board_time_ms(void);
uint64_t board_time_us(void);
/* Set by the tick interrupt, cleared by whoever consumes it. */
extern volatile uint32_t tick_pending;

#endif
