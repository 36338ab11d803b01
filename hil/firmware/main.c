/* Devboard firmware of the prospector HIL rig (STM32F405).
 *
 * The board sits between the flight software and the simulator:
 *
 *   flight software <-> USART1 (flight link) <-> board <-> USART2 (stimulus link) <-> simulator
 *
 * - Device models: sensor messages from the simulator are decoded into the
 *   board's sensor registers and sent on to the flight software, re-encoded
 *   with the board's own system/component id and sequence numbers (as a
 *   device would report them).  Actuator commands from the flight software
 *   are decoded into actuator registers and reported to the simulator the
 *   same way.  Message types the board has no model for are routed unchanged
 *   (ground commands, flight telemetry, new sensors).
 * - Board component (system 2, component MAV_COMP_ID_PERIPHERAL): heartbeats
 *   (10 Hz; in lockstep every 100 ms of mission time, so that a lockstep run
 *   is reproducible; one in answer to every heartbeat of the flight
 *   software), COMMAND_LONG addressed to it (REQUEST_MESSAGE, reboot, a line
 *   noise generator for tests) with COMMAND_ACK.
 * - Link layer (component MAV_COMP_ID_UART_BRIDGE): TIMESYNC answers (round
 *   trip and board time), lockstep time marks (SYSTEM_TIME) passed across,
 *   and link statistics (NAMED_VALUE_INT, 1 Hz), all stamped with board time.
 *
 * All framing, packing and CRC come from the MAVLink C headers that mavgen
 * generates from flightsw/icd/prospector.xml at build time.
 */
#include <stdint.h>

#include "board.h"
#include "mavlink_config.h"
#include "mavlink_rx.h"
#include "prospector/mavlink.h"
#include "devices.h"
#include "timebase.h"
#include "uart.h"

#define DEVICE_COMPID 1                      /* device data, as the simulator in SIL */
#define BOARD_COMPID MAV_COMP_ID_PERIPHERAL  /* the board as a MAVLink component */
#define LINK_COMPID MAV_COMP_ID_UART_BRIDGE  /* link-layer traffic of either end */
#define GROUND_SYSID 255

#define HEARTBEAT_PERIOD_MS 100u
#define HEARTBEAT_PERIOD_MISSION_US 100000u
#define LOCKSTEP_FALLBACK_MS 1000u /* no time mark for this long: free-running heartbeats */
#define STATS_PERIOD_MS 1000u
#define BOOT_HEARTBEATS 3u         /* heartbeats that report MAV_STATE_BOOT after a reset */
#define CUSTOM_MODE_LOCKSTEP 1u

/* MAVLink channels: one transmit sequence per stream (the two receive parsers
   keep their own state in port_t). */
enum {
    CH_TX_F_DEVICE = 0,
    CH_TX_F_BOARD,
    CH_TX_F_LINK,
    CH_TX_S_DEVICE,
    CH_TX_S_BOARD,
    CH_TX_S_LINK,
};

typedef struct {
    uart_t *uart;
    const stream_t *device, *board, *link;
    /* receive statistics beyond the UART's own */
    uint32_t rx_msgs, rx_seq_lost, tx_msgs, routed;
    uint32_t last_rx_ms; /* board time of the last byte received */
    struct { uint8_t sysid, compid, seq, used; } sources[8];
    mavlink_rx_t rx;
} port_t;

static const stream_t f_device = {&uart1, DEVICE_COMPID, CH_TX_F_DEVICE};
static const stream_t f_board = {&uart1, BOARD_COMPID, CH_TX_F_BOARD};
static const stream_t f_link = {&uart1, LINK_COMPID, CH_TX_F_LINK};
static const stream_t s_device = {&uart2, DEVICE_COMPID, CH_TX_S_DEVICE};
static const stream_t s_board = {&uart2, BOARD_COMPID, CH_TX_S_BOARD};
static const stream_t s_link = {&uart2, LINK_COMPID, CH_TX_S_LINK};

static port_t flight = {.uart = &uart1, .device = &f_device,
                        .board = &f_board, .link = &f_link};
static port_t stim = {.uart = &uart2, .device = &s_device,
                      .board = &s_board, .link = &s_link};

static uint8_t frame_buf[MAVLINK_MAX_PACKET_LEN];

/* Board state. */
static uint32_t heartbeats_sent;
static uint32_t next_heartbeat_ms, next_stim_heartbeat_ms, next_stats_ms;
static int lockstep;
static uint32_t last_mark_ms;
static uint64_t next_heartbeat_mission_us;
static uint32_t marks_passed, host_heartbeats, runs_started;

/* Line-noise generator (MAV_CMD_USER_1), for garbage tests through the board. */
static struct {
    uart_t *uart;
    uint32_t burst_bytes, period_ms, next_ms, bytes_sent, state;
} noise;

/* ---- sending ------------------------------------------------------------------------------- */

static void transmit(port_t *p, const mavlink_message_t *msg)
{
    uint16_t len = mavlink_msg_to_send_buffer(frame_buf, msg);
    if (uart_write_frame(p->uart, frame_buf, len)) p->tx_msgs++;
}

static port_t *port_of(const stream_t *s)
{
    return s->uart == &uart1 ? &flight : &stim;
}

void stream_transmit(const stream_t *s, const mavlink_message_t *msg)
{
    transmit(port_of(s), msg);
}

static void send_heartbeat(const stream_t *s)
{
    mavlink_message_t m;
    uint8_t status = heartbeats_sent < BOOT_HEARTBEATS ? MAV_STATE_BOOT : MAV_STATE_ACTIVE;
    mavlink_msg_heartbeat_pack_chan(BOARD_SYSID, s->compid, s->chan, &m, MAV_TYPE_ONBOARD_CONTROLLER,
                                    MAV_AUTOPILOT_INVALID, 0, lockstep ? CUSTOM_MODE_LOCKSTEP : 0,
                                    status);
    transmit(port_of(s), &m);
    if (s->uart == &uart1) heartbeats_sent++;
}

static void send_stat(const stream_t *s, const char *name, uint32_t value)
{
    mavlink_message_t m;
    mavlink_msg_named_value_int_pack_chan(BOARD_SYSID, s->compid, s->chan, &m, board_time_ms(), name,
                                          (int32_t)value);
    transmit(port_of(s), &m);
}

/* Link statistics, "f_" for the flight link, "s_" for the stimulus link. */
static void send_stats(const stream_t *s)
{
    send_stat(s, "f_rx_byte", uart1.rx_bytes);
    send_stat(s, "f_tx_byte", uart1.tx_bytes);
    send_stat(s, "f_rx_msg", flight.rx_msgs);
    send_stat(s, "f_tx_msg", flight.tx_msgs);
    send_stat(s, "f_rx_err", flight.rx.errors);
    send_stat(s, "f_rx_skip", flight.rx.skipped);
    send_stat(s, "f_rx_lost", flight.rx_seq_lost);
    send_stat(s, "f_rx_ovf", uart1.rx_overflows + uart1.rx_overruns);
    send_stat(s, "f_tx_drop", uart1.tx_frames_dropped);
    send_stat(s, "s_rx_byte", uart2.rx_bytes);
    send_stat(s, "s_tx_byte", uart2.tx_bytes);
    send_stat(s, "s_rx_msg", stim.rx_msgs);
    send_stat(s, "s_tx_msg", stim.tx_msgs);
    send_stat(s, "s_rx_err", stim.rx.errors);
    send_stat(s, "s_rx_skip", stim.rx.skipped);
    send_stat(s, "s_rx_lost", stim.rx_seq_lost);
    send_stat(s, "s_rx_ovf", uart2.rx_overflows + uart2.rx_overruns);
    send_stat(s, "s_tx_drop", uart2.tx_frames_dropped);
    send_stat(s, "marks", marks_passed);
    send_stat(s, "host_hb", host_heartbeats);
    send_stat(s, "noise_byte", noise.bytes_sent);
    send_stat(s, "runs", runs_started);
}

static void send_ack(const stream_t *s, const mavlink_command_long_t *cmd, const mavlink_message_t *from,
                     uint8_t result)
{
    mavlink_message_t m;
    mavlink_msg_command_ack_pack_chan(BOARD_SYSID, s->compid, s->chan, &m, cmd->command, result, 0, 0,
                                      from->sysid, from->compid);
    transmit(port_of(s), &m);
}

/* ---- receiving ----------------------------------------------------------------------------- */

static void track_sequence(port_t *p, const mavlink_message_t *msg)
{
    uint32_t free_slot = 8;
    for (uint32_t i = 0; i < 8; i++) {
        if (p->sources[i].used && p->sources[i].sysid == msg->sysid &&
            p->sources[i].compid == msg->compid) {
            /* A sender that never advances its sequence (pymavlink's pack()) tells nothing. */
            if (msg->seq != p->sources[i].seq) {
                p->rx_seq_lost += (uint8_t)(msg->seq - p->sources[i].seq - 1u);
            }
            p->sources[i].seq = msg->seq;
            return;
        }
        if (!p->sources[i].used && free_slot == 8) free_slot = i;
    }
    if (free_slot < 8) {
        p->sources[free_slot].used = 1;
        p->sources[free_slot].sysid = msg->sysid;
        p->sources[free_slot].compid = msg->compid;
        p->sources[free_slot].seq = msg->seq;
    }
}

static void reboot(void)
{
    while (uart_tx_pending(&uart1) || uart_tx_pending(&uart2)) {
        uart_pump_tx(&uart1);
        uart_pump_tx(&uart2);
    }
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
    for (;;) {
    }
}

/* A new run: every transmit sequence restarts at 0 and the heartbeats report
   BOOT again, so that in lockstep the bytes the flight software receives do
   not depend on how long the board had been up.  In lockstep the board then
   stays quiet on the flight link until the first time mark. */
static void start_run(int lockstep_run)
{
    for (uint8_t ch = CH_TX_F_DEVICE; ch <= CH_TX_S_LINK; ch++) {
        mavlink_get_channel_status(ch)->current_tx_seq = 0;
    }
    heartbeats_sent = 0;
    next_heartbeat_mission_us = 0;
    lockstep = lockstep_run;
    last_mark_ms = board_time_ms();
    runs_started++;
}

/* COMMAND_LONG addressed to the board; answered on the port it came from. */
static void board_command(port_t *p, const mavlink_message_t *msg)
{
    mavlink_command_long_t cmd;
    mavlink_msg_command_long_decode(msg, &cmd);
    const stream_t *s = p->board;
    switch (cmd.command) {
    case MAV_CMD_REQUEST_MESSAGE:
        if (cmd.param1 == (float)MAVLINK_MSG_ID_HEARTBEAT) {
            send_ack(s, &cmd, msg, MAV_RESULT_ACCEPTED);
            send_heartbeat(s);
        } else if (cmd.param1 == (float)MAVLINK_MSG_ID_NAMED_VALUE_INT) {
            send_ack(s, &cmd, msg, MAV_RESULT_ACCEPTED);
            send_stats(p->link);
        } else {
            send_ack(s, &cmd, msg, MAV_RESULT_UNSUPPORTED);
        }
        break;
    case MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN:
        if (cmd.param1 == 1.0f) {
            send_ack(s, &cmd, msg, MAV_RESULT_ACCEPTED);
            reboot();
        } else {
            send_ack(s, &cmd, msg, MAV_RESULT_UNSUPPORTED);
        }
        break;
    case MAV_CMD_USER_2: /* a new run starts: param1 = 1 lockstep, 0 real time */
        start_run(cmd.param1 == 1.0f);
        send_ack(s, &cmd, msg, MAV_RESULT_ACCEPTED);
        break;
    case MAV_CMD_USER_1: /* line noise: param1 bytes every param2 ms on link param3 (1 or 2) */
        if (cmd.param1 < 0.0f || cmd.param1 > 255.0f || cmd.param2 < 1.0f ||
            (cmd.param3 != 1.0f && cmd.param3 != 2.0f)) {
            send_ack(s, &cmd, msg, MAV_RESULT_DENIED);
            break;
        }
        noise.burst_bytes = (uint32_t)cmd.param1;
        noise.period_ms = (uint32_t)cmd.param2;
        noise.uart = cmd.param3 == 1.0f ? &uart1 : &uart2;
        noise.next_ms = board_time_ms();
        if (noise.state == 0) noise.state = 0x9E3779B9u;
        send_ack(s, &cmd, msg, MAV_RESULT_ACCEPTED);
        break;
    default:
        send_ack(s, &cmd, msg, MAV_RESULT_UNSUPPORTED);
        break;
    }
}

static int addressed_to_board(const mavlink_message_t *msg)
{
    if (msg->msgid != MAVLINK_MSG_ID_COMMAND_LONG) return 0;
    return mavlink_msg_command_long_get_target_system(msg) == BOARD_SYSID &&
           mavlink_msg_command_long_get_target_component(msg) == BOARD_COMPID;
}

static void answer_timesync(port_t *p, const mavlink_message_t *msg)
{
    mavlink_timesync_t ts;
    mavlink_msg_timesync_decode(msg, &ts);
    if (ts.tc1 != 0) return; /* an answer, not a request */
    mavlink_message_t m;
    mavlink_msg_timesync_pack_chan(BOARD_SYSID, p->link->compid, p->link->chan, &m,
                                   (int64_t)(board_time_us() * 1000u), ts.ts1);
    transmit(p, &m);
}

/* A time mark from the simulator: in lockstep, mission time is what it says. */
static void on_stim_time_mark(const mavlink_message_t *msg)
{
    uint64_t t_us = mavlink_msg_system_time_get_time_unix_usec(msg);
    lockstep = 1;
    last_mark_ms = board_time_ms();
    marks_passed++;
    if (t_us >= next_heartbeat_mission_us) {
        send_heartbeat(&f_board);
        next_heartbeat_mission_us = (t_us / HEARTBEAT_PERIOD_MISSION_US + 1u) * HEARTBEAT_PERIOD_MISSION_US;
    }
    /* Passed on after everything the simulator sent before it. */
    mavlink_message_t m;
    mavlink_msg_system_time_pack_chan(BOARD_SYSID, LINK_COMPID, CH_TX_F_LINK, &m, t_us, board_time_ms());
    transmit(&flight, &m);
}

/* The flight software finished the frame of this time mark: tell the simulator. */
static void on_flight_time_mark(const mavlink_message_t *msg)
{
    mavlink_message_t m;
    mavlink_msg_system_time_pack_chan(BOARD_SYSID, LINK_COMPID, CH_TX_S_LINK, &m,
                                      mavlink_msg_system_time_get_time_unix_usec(msg), board_time_ms());
    transmit(&stim, &m);
}

static void on_message(port_t *p, const mavlink_message_t *msg)
{
    port_t *other = p == &flight ? &stim : &flight;
    p->rx_msgs++;
    track_sequence(p, msg);
    if (msg->compid == LINK_COMPID && msg->sysid != BOARD_SYSID) {
        if (msg->msgid == MAVLINK_MSG_ID_TIMESYNC) {
            answer_timesync(p, msg);
        } else if (msg->msgid == MAVLINK_MSG_ID_SYSTEM_TIME) {
            if (p == &stim) {
                on_stim_time_mark(msg);
            } else {
                on_flight_time_mark(msg);
            }
        }
        return; /* link-layer traffic ends at the board */
    }
    if (addressed_to_board(msg)) {
        board_command(p, msg);
        return;
    }
    if (p == &flight && msg->msgid == MAVLINK_MSG_ID_HEARTBEAT && msg->sysid != BOARD_SYSID) {
        host_heartbeats++;
        send_heartbeat(&f_board); /* answer, then pass it on to the ground */
    }
    model_fn model = p == &stim ? sensor_model(msg->msgid) : actuator_model(msg->msgid);
    if (model && msg->sysid != GROUND_SYSID) {
        model(msg, other->device);
        return;
    }
    transmit(other, msg); /* routed unchanged: same ids, sequence and checksum */
    other->routed++;
}

#define RX_IDLE_MS 2u /* no byte for this long: the line is idle (a frame's bytes come back to back) */

static void on_frame(void *ctx, const mavlink_message_t *msg)
{
    on_message((port_t *)ctx, msg);
}

static void receive(port_t *p, uint32_t max_bytes)
{
    uint8_t c;
    uint32_t i = 0;
    for (; i < max_bytes && uart_getc(p->uart, &c); i++) {
        mavlink_rx_byte(&p->rx, c);
    }
    if (i) p->last_rx_ms = board_time_ms();
}

/* ---- periodic work ------------------------------------------------------------------------- */

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static int time_reached(uint32_t now, uint32_t t)
{
    return (int32_t)(now - t) >= 0;
}

static void periodic(void)
{
    uint32_t now = board_time_ms();
    if (time_reached(now, flight.last_rx_ms + RX_IDLE_MS)) mavlink_rx_idle(&flight.rx);
    if (time_reached(now, stim.last_rx_ms + RX_IDLE_MS)) mavlink_rx_idle(&stim.rx);
    if (lockstep && !time_reached(now, last_mark_ms + LOCKSTEP_FALLBACK_MS)) {
        next_heartbeat_ms = now + HEARTBEAT_PERIOD_MS; /* heartbeats follow the time marks */
    } else if (time_reached(now, next_heartbeat_ms)) {
        lockstep = 0;
        send_heartbeat(&f_board);
        next_heartbeat_ms = now + HEARTBEAT_PERIOD_MS;
    }
    if (time_reached(now, next_stim_heartbeat_ms)) {
        send_heartbeat(&s_board);
        next_stim_heartbeat_ms = now + HEARTBEAT_PERIOD_MS;
    }
    if (time_reached(now, next_stats_ms)) {
        send_stats(&f_link);
        next_stats_ms = now + STATS_PERIOD_MS;
    }
    if (noise.burst_bytes && time_reached(now, noise.next_ms)) {
        uint8_t burst[255];
        for (uint32_t i = 0; i < noise.burst_bytes; i++) burst[i] = (uint8_t)xorshift32(&noise.state);
        if (uart_write_frame(noise.uart, burst, noise.burst_bytes)) noise.bytes_sent += noise.burst_bytes;
        noise.next_ms = now + noise.period_ms;
    }
}

static void pins_init(void)
{
    /* Real boards: clocks to GPIOA and both USARTs, PA9/PA10 and PA2/PA3 to AF7.
       Under QEMU these registers are not emulated and the writes do nothing. */
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    GPIOA_MODER = (GPIOA_MODER & ~((3u << 4) | (3u << 6) | (3u << 18) | (3u << 20))) |
                  (2u << 4) | (2u << 6) | (2u << 18) | (2u << 20);
    GPIOA_AFRL = (GPIOA_AFRL & ~((0xFu << 8) | (0xFu << 12))) | (7u << 8) | (7u << 12);
    GPIOA_AFRH = (GPIOA_AFRH & ~((0xFu << 4) | (0xFu << 8))) | (7u << 4) | (7u << 8);
}

int main(void)
{
    pins_init();
    uart_init(&uart1, USART1_BASE, USART1_IRQn);
    uart_init(&uart2, USART2_BASE, USART2_IRQn);
    mavlink_rx_init(&flight.rx, on_frame, &flight);
    mavlink_rx_init(&stim.rx, on_frame, &stim);
    timebase_init();
    irq_enable();
    next_heartbeat_ms = next_stim_heartbeat_ms = next_stats_ms = board_time_ms();
    for (;;) {
        /* Bounded work per link per pass, so one link cannot starve the other. */
        receive(&flight, 256);
        receive(&stim, 256);
        if (tick_pending) {
            tick_pending = 0;
            periodic();
        }
        uart_pump_tx(&uart1);
        uart_pump_tx(&uart2);
        /* Sleep until the next interrupt unless there is work; checked with
           interrupts masked so that a byte arriving now still wakes us. */
        irq_disable();
        if (!uart_rx_pending(&uart1) && !uart_rx_pending(&uart2) && !tick_pending) {
            wait_for_interrupt();
        }
        irq_enable();
    }
}
