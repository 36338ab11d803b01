/* A resynchronising MAVLink receiver around the generated parser. */
#ifndef PROSPECTOR_FW_MAVLINK_RX_H
#define PROSPECTOR_FW_MAVLINK_RX_H

#include <stdint.h>

#include "mavlink_config.h"
#include "prospector/mavlink.h"

typedef void (*mavlink_rx_handler)(void *ctx, const mavlink_message_t *msg);

typedef struct {
    mavlink_message_t rxmsg;
    mavlink_status_t status;
    uint8_t cand[MAVLINK_MAX_PACKET_LEN]; /* bytes of the candidate frame being parsed */
    uint16_t cand_len;
    uint8_t pend[MAVLINK_MAX_PACKET_LEN]; /* bytes to parse again after a failed candidate */
    uint16_t pend_head, pend_len;
    uint16_t probed_len;                  /* candidate length at the last probe */
    uint32_t frames, errors, skipped;     /* valid frames, failed candidates, bytes dropped */
    mavlink_rx_handler handler;
    void *ctx;
} mavlink_rx_t;

void mavlink_rx_init(mavlink_rx_t *rx, mavlink_rx_handler handler, void *ctx);
/* One received byte; calls the handler for every valid frame it completes. */
void mavlink_rx_byte(mavlink_rx_t *rx, uint8_t c);
/* The line has been quiet for a while: release a frame caught in a false candidate. */
void mavlink_rx_idle(mavlink_rx_t *rx);

#endif
