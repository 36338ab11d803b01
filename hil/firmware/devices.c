/* Device models of the devboard: each sensor or actuator message decoded into the
 * board's register for that device, then re-encoded with the board's own system id,
 * component and sequence numbers, as a device on the board would report it. */
#include <stdint.h>

#include "devices.h"
#include "timebase.h"

/* ---- device models ------------------------------------------------------------------------- */

/* A device register: the last value, how many arrived, and the board time of the last. */
#define DEVICE(name)                                                                              \
    static struct {                                                                               \
        mavlink_##name##_t value;                                                                 \
        uint32_t count;                                                                           \
        uint64_t board_us;                                                                        \
    } reg_##name;                                                                                 \
    static void model_##name(const mavlink_message_t *in, const stream_t *out)                    \
    {                                                                                             \
        mavlink_message_t m;                                                                      \
        mavlink_msg_##name##_decode(in, &reg_##name.value);                                      \
        reg_##name.count++;                                                                       \
        reg_##name.board_us = board_time_us();                                                    \
        mavlink_msg_##name##_encode_chan(BOARD_SYSID, out->compid, out->chan, &m,                 \
                                         &reg_##name.value);                                      \
        stream_transmit(out, &m);                                                                 \
    }

typedef struct {
    uint32_t msgid;
    model_fn model;
} device_t;

/* Each probe message is guarded: the dialect may move on without breaking
   the build; a message with no model is routed unchanged. */
DEVICE(highres_imu)
#ifdef MAVLINK_MSG_ID_PROBE_STAR_TRACKER
DEVICE(probe_star_tracker)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_LIDAR_RANGE
DEVICE(probe_lidar_range)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_NAVCAM_FIX
DEVICE(probe_navcam_fix)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_NAVCAM_LANDMARKS
DEVICE(probe_navcam_landmarks)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_WHEEL_STATUS
DEVICE(probe_wheel_status)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_SPECTRUM_CHUNK
DEVICE(probe_spectrum_chunk)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_SAMPLER_STATUS
DEVICE(probe_sampler_status)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_POWER_THERMAL
DEVICE(probe_power_thermal)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_THRUSTER_CMD
DEVICE(probe_thruster_cmd)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_WHEEL_CMD
DEVICE(probe_wheel_cmd)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_SAMPLER_CMD
DEVICE(probe_sampler_cmd)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_LIDAR_SCAN
DEVICE(probe_lidar_scan)
#endif
#ifdef MAVLINK_MSG_ID_PROBE_INSTRUMENT_CMD
DEVICE(probe_instrument_cmd)
#endif

/* Sensors: simulator -> board -> flight software. */
static const device_t sensors[] = {
    {MAVLINK_MSG_ID_HIGHRES_IMU, model_highres_imu},
#ifdef MAVLINK_MSG_ID_PROBE_STAR_TRACKER
    {MAVLINK_MSG_ID_PROBE_STAR_TRACKER, model_probe_star_tracker},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_LIDAR_RANGE
    {MAVLINK_MSG_ID_PROBE_LIDAR_RANGE, model_probe_lidar_range},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_NAVCAM_FIX
    {MAVLINK_MSG_ID_PROBE_NAVCAM_FIX, model_probe_navcam_fix},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_NAVCAM_LANDMARKS
    {MAVLINK_MSG_ID_PROBE_NAVCAM_LANDMARKS, model_probe_navcam_landmarks},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_WHEEL_STATUS
    {MAVLINK_MSG_ID_PROBE_WHEEL_STATUS, model_probe_wheel_status},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_SPECTRUM_CHUNK
    {MAVLINK_MSG_ID_PROBE_SPECTRUM_CHUNK, model_probe_spectrum_chunk},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_SAMPLER_STATUS
    {MAVLINK_MSG_ID_PROBE_SAMPLER_STATUS, model_probe_sampler_status},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_POWER_THERMAL
    {MAVLINK_MSG_ID_PROBE_POWER_THERMAL, model_probe_power_thermal},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_LIDAR_SCAN
    {MAVLINK_MSG_ID_PROBE_LIDAR_SCAN, model_probe_lidar_scan},
#endif
};

/* Actuators: flight software -> board -> simulator. */
static const device_t actuators[] = {
#ifdef MAVLINK_MSG_ID_PROBE_THRUSTER_CMD
    {MAVLINK_MSG_ID_PROBE_THRUSTER_CMD, model_probe_thruster_cmd},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_WHEEL_CMD
    {MAVLINK_MSG_ID_PROBE_WHEEL_CMD, model_probe_wheel_cmd},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_SAMPLER_CMD
    {MAVLINK_MSG_ID_PROBE_SAMPLER_CMD, model_probe_sampler_cmd},
#endif
#ifdef MAVLINK_MSG_ID_PROBE_INSTRUMENT_CMD
    {MAVLINK_MSG_ID_PROBE_INSTRUMENT_CMD, model_probe_instrument_cmd},
#endif
};

static model_fn find_model(const device_t *table, uint32_t n, uint32_t msgid)
{
    for (uint32_t i = 0; i < n; i++) {
        if (table[i].msgid == msgid) return table[i].model;
    }
    return 0;
}

model_fn sensor_model(uint32_t msgid)
{
    return find_model(sensors, sizeof sensors / sizeof sensors[0], msgid);
}

model_fn actuator_model(uint32_t msgid)
{
    return find_model(actuators, sizeof actuators / sizeof actuators[0], msgid);
}
