/* USART driver: RXNE interrupt fills a ring buffer; transmit from a ring
 * buffer, drained by the TXE interrupt on hardware.
 *
 * QEMU's STM32 USART model transmits synchronously (TXE is always set and
 * raises no interrupt), so uart_pump_tx() also drains the ring from the main
 * loop whenever TXE reads set: on QEMU it empties the ring at once, on real
 * hardware it writes one byte and the TXE interrupt sends the rest.
 */
#include "uart.h"

#include "board.h"

uart_t uart1, uart2;

void uart_init(uart_t *u, uint32_t base, int irqn)
{
    u->base = base;
    u->irqn = irqn;
    u->rx_head = u->rx_tail = 0;
    u->tx_head = u->tx_tail = 0;
    /* 16x oversampling: BRR = fck / baud, rounded. */
    USART_BRR(base) = (PCLK_HZ + UART_BAUD / 2) / UART_BAUD;
    USART_CR1(base) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
    NVIC_IPR_BYTE(irqn) = 0x40;
    nvic_enable(irqn);
}

int uart_getc(uart_t *u, uint8_t *c)
{
    uint32_t tail = u->rx_tail;
    if (tail == u->rx_head) return 0;
    *c = u->rx[tail & (UART_RX_RING - 1)];
    u->rx_tail = tail + 1;
    return 1;
}

int uart_rx_pending(const uart_t *u)
{
    return u->rx_head != u->rx_tail;
}

uint32_t uart_tx_free(const uart_t *u)
{
    return UART_TX_RING - (u->tx_head - u->tx_tail);
}

int uart_tx_pending(const uart_t *u)
{
    return u->tx_head != u->tx_tail;
}

int uart_write_frame(uart_t *u, const uint8_t *buf, uint32_t len)
{
    if (uart_tx_free(u) < len) {
        u->tx_frames_dropped++;
        return 0;
    }
    uint32_t head = u->tx_head;
    for (uint32_t i = 0; i < len; i++) {
        u->tx[(head + i) & (UART_TX_RING - 1)] = buf[i];
    }
    u->tx_head = head + len;
    u->tx_bytes += len;
    uart_pump_tx(u);
    return 1;
}

void uart_pump_tx(uart_t *u)
{
    irq_disable();
    while (u->tx_tail != u->tx_head && (USART_SR(u->base) & USART_SR_TXE)) {
        USART_DR(u->base) = u->tx[u->tx_tail & (UART_TX_RING - 1)];
        u->tx_tail++;
    }
    if (u->tx_tail != u->tx_head) {
        USART_CR1(u->base) |= USART_CR1_TXEIE;
    }
    irq_enable();
}

static void uart_isr(uart_t *u)
{
    uint32_t sr = USART_SR(u->base);
    if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
        /* Reading DR clears RXNE (and ORE after the SR read above). */
        uint8_t c = (uint8_t)USART_DR(u->base);
        if (sr & USART_SR_ORE) u->rx_overruns++;
        uint32_t head = u->rx_head;
        if (head - u->rx_tail < UART_RX_RING) {
            u->rx[head & (UART_RX_RING - 1)] = c;
            u->rx_head = head + 1;
            u->rx_bytes++;
        } else {
            u->rx_overflows++;
        }
    }
    if ((USART_CR1(u->base) & USART_CR1_TXEIE) && (sr & USART_SR_TXE)) {
        if (u->tx_tail != u->tx_head) {
            USART_DR(u->base) = u->tx[u->tx_tail & (UART_TX_RING - 1)];
            u->tx_tail++;
        }
        if (u->tx_tail == u->tx_head) {
            USART_CR1(u->base) &= ~USART_CR1_TXEIE;
        }
    }
}

void USART1_IRQHandler(void) { uart_isr(&uart1); }
void USART2_IRQHandler(void) { uart_isr(&uart2); }
