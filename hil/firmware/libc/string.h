/* The few string functions MAVLink's C headers use; no newlib needed.
   Implemented in libc_min.c. */
#ifndef PROSPECTOR_FW_STRING_H
#define PROSPECTOR_FW_STRING_H
#include <stddef.h>
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
char *strncpy(char *dst, const char *src, size_t n);
#endif
