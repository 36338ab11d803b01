/* MAVLink's mavlink_helpers.h includes <stdio.h> but calls nothing from it
   (printf appears only in comments); this empty header stands in for it. */
#ifndef PROSPECTOR_FW_STDIO_H
#define PROSPECTOR_FW_STDIO_H
#endif
