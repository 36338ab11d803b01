/* A resynchronising MAVLink receiver around the generated parser.
 *
 * MAVLink's own parser, when a candidate frame fails (checksum, bad flags),
 * drops every byte it had taken, so a valid frame that started inside a
 * false candidate (garbage holding 0xFD and a long length) is lost with it.
 * Here the candidate's bytes are kept; when it fails, parsing starts again on
 * the byte after its start marker.  And when the line goes quiet inside a
 * candidate that claims more bytes than came, a later marker from which a
 * complete valid frame parses means the candidate was garbage: parsing
 * restarts there, instead of waiting for bytes an idle line will not bring.
 * Framing and checksums are all mavgen's (mavlink_frame_char_buffer).
 */
#include "mavlink_rx.h"

#include <string.h>

void mavlink_rx_init(mavlink_rx_t *rx, mavlink_rx_handler handler, void *ctx)
{
    memset(rx, 0, sizeof *rx);
    rx->handler = handler;
    rx->ctx = ctx;
}

/* Drop the first `skip` bytes of the candidate; the rest goes back in front of
   the queue.  Bytes queued plus candidate bytes never exceed one frame (280). */
static void restart_after(mavlink_rx_t *rx, uint16_t skip)
{
    rx->errors++;
    rx->skipped += skip;
    uint16_t n = rx->cand_len - skip;
    if (rx->pend_head < n) {
        memmove(rx->pend + n, rx->pend + rx->pend_head, rx->pend_len);
        rx->pend_head = n;
    }
    rx->pend_head -= n;
    memcpy(rx->pend + rx->pend_head, rx->cand + skip, n);
    rx->pend_len += n;
    rx->cand_len = rx->probed_len = 0;
    memset(&rx->status, 0, sizeof rx->status);
}

static void parse(mavlink_rx_t *rx, uint8_t c)
{
    static mavlink_message_t msg;
    int idle_before = rx->status.parse_state <= MAVLINK_PARSE_STATE_IDLE;
    uint8_t r = mavlink_frame_char_buffer(&rx->rxmsg, &rx->status, c, &msg, NULL);
    int idle_after = rx->status.parse_state <= MAVLINK_PARSE_STATE_IDLE;
    if (idle_before && idle_after && r == MAVLINK_FRAMING_INCOMPLETE) {
        rx->skipped++; /* a byte outside any frame */
        return;
    }
    if (rx->cand_len < sizeof rx->cand) rx->cand[rx->cand_len++] = c;
    if (r == MAVLINK_FRAMING_OK) {
        rx->cand_len = rx->probed_len = 0;
        rx->frames++;
        rx->handler(rx->ctx, &msg);
        return;
    }
    if (idle_after) restart_after(rx, 1); /* the candidate failed */
}

static void drain(mavlink_rx_t *rx)
{
    while (rx->pend_len) {
        uint8_t b = rx->pend[rx->pend_head];
        rx->pend_head++;
        rx->pend_len--;
        if (rx->pend_len == 0) rx->pend_head = 0;
        parse(rx, b);
    }
}

void mavlink_rx_byte(mavlink_rx_t *rx, uint8_t c)
{
    parse(rx, c);
    drain(rx);
}

void mavlink_rx_idle(mavlink_rx_t *rx)
{
    static mavlink_message_t probe_msg, probe_out;
    static mavlink_status_t probe_status;
    if (rx->cand_len < 2 || rx->cand_len <= rx->probed_len || rx->pend_len) return;
    rx->probed_len = rx->cand_len;
    for (uint16_t k = 1; k < rx->cand_len; k++) {
        if (rx->cand[k] != MAVLINK_STX) continue;
        memset(&probe_status, 0, sizeof probe_status);
        for (uint16_t i = k; i < rx->cand_len; i++) {
            uint8_t r = mavlink_frame_char_buffer(&probe_msg, &probe_status, rx->cand[i],
                                                  &probe_out, NULL);
            if (r == MAVLINK_FRAMING_OK) {
                restart_after(rx, k);
                drain(rx);
                return;
            }
            if (probe_status.parse_state <= MAVLINK_PARSE_STATE_IDLE) break;
        }
    }
}
