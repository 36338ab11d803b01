/* Interrupt-driven USART with receive and transmit ring buffers. */
#ifndef PROSPECTOR_FW_UART_H
#define PROSPECTOR_FW_UART_H

#include <stdint.h>

#define UART_RX_RING 2048u /* powers of two */
#define UART_TX_RING 4096u

typedef struct {
    uint32_t base;
    int irqn;
    volatile uint8_t rx[UART_RX_RING];
    volatile uint32_t rx_head; /* written by the ISR */
    volatile uint32_t rx_tail; /* written by the main loop */
    volatile uint8_t tx[UART_TX_RING];
    volatile uint32_t tx_head; /* written by the main loop */
    volatile uint32_t tx_tail; /* written by the ISR / tx pump */
    volatile uint32_t rx_bytes, rx_overflows, rx_overruns;
    uint32_t tx_bytes, tx_frames_dropped;
} uart_t;

extern uart_t uart1, uart2;

void uart_init(uart_t *u, uint32_t base, int irqn);
/* Next received byte into *c; 0 when the ring is empty. */
int uart_getc(uart_t *u, uint8_t *c);
int uart_rx_pending(const uart_t *u);
/* Queue a whole frame, or nothing (counted in tx_frames_dropped) if it does not fit. */
int uart_write_frame(uart_t *u, const uint8_t *buf, uint32_t len);
/* Move queued bytes to the data register while it is free. */
void uart_pump_tx(uart_t *u);
int uart_tx_pending(const uart_t *u);
uint32_t uart_tx_free(const uart_t *u);

#endif
