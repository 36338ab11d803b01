/* Host build of the firmware's receiver (mavlink_rx.c), for tests: bytes on
 * stdin, one line per valid frame on stdout ("msgid seq"), then the counters.
 * An idle line is simulated wherever the input holds the 4-byte marker
 * IDLE_MARK (it is not fed to the receiver).
 *
 *   cc -I.. -I../libc? -I$BUILD/mavlink rx_harness.c ../mavlink_rx.c
 */
#include <stdio.h>

#include "mavlink_rx.h"

static void on_frame(void *ctx, const mavlink_message_t *msg)
{
    (void)ctx;
    printf("%u %u\n", (unsigned)msg->msgid, (unsigned)msg->seq);
}

int main(void)
{
    static const unsigned char idle_mark[4] = {0xA5, 0x5A, 0x1D, 0x1E};
    static mavlink_rx_t rx;
    mavlink_rx_init(&rx, on_frame, NULL);
    unsigned char window[4];
    int have = 0, c;
    while ((c = getchar()) != EOF) {
        window[have++] = (unsigned char)c;
        int i = 0;
        while (i < have && window[i] == idle_mark[i]) i++;
        if (i == have && have < 4) continue; /* maybe the marker: wait */
        if (i == 4) {
            mavlink_rx_idle(&rx);
            have = 0;
            continue;
        }
        mavlink_rx_byte(&rx, window[0]);
        for (int k = 1; k < have; k++) window[k - 1] = window[k];
        have--;
    }
    for (int k = 0; k < have; k++) mavlink_rx_byte(&rx, window[k]);
    mavlink_rx_idle(&rx);
    printf("frames %u errors %u skipped %u\n", (unsigned)rx.frames, (unsigned)rx.errors,
           (unsigned)rx.skipped);
    return 0;
}
