/* How the firmware uses MAVLink's C headers: set before including them. */
#ifndef PROSPECTOR_FW_MAVLINK_CONFIG_H
#define PROSPECTOR_FW_MAVLINK_CONFIG_H

/* Six transmit streams (see main.c); the receivers keep their own parser state. */
#define MAVLINK_COMM_NUM_BUFFERS 6
/* The links are not signed: no SHA-256 code in the image. */
#define MAVLINK_NO_SIGN_PACKET
#define MAVLINK_NO_SIGNATURE_CHECK
/* No quaternion/matrix helpers (they need libm). */
#define MAVLINK_NO_CONVERSION_HELPERS

#endif
