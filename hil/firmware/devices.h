/* Device models (devices.c) and the transmit streams they report on (main.c). */
#ifndef PROSPECTOR_FW_DEVICES_H
#define PROSPECTOR_FW_DEVICES_H

#include <stdint.h>

#include "mavlink_config.h"
#include "prospector/mavlink.h"
#include "uart.h"

#define BOARD_SYSID 2

/* One transmit stream: a UART, the component id it speaks as, its MAVLink channel. */
typedef struct {
    uart_t *uart;
    uint8_t compid;
    uint8_t chan;
} stream_t;

/* Send a message on the port of stream s (main.c). */
void stream_transmit(const stream_t *s, const mavlink_message_t *msg);

/* A device model: decode `in` into the device's register, report it on `out`. */
typedef void (*model_fn)(const mavlink_message_t *in, const stream_t *out);

/* The model of a sensor (simulator -> flight) or actuator (flight -> simulator)
   message, or 0 when the board has none and routes the message unchanged. */
model_fn sensor_model(uint32_t msgid);
model_fn actuator_model(uint32_t msgid);

#endif
