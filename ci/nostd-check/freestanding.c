/* A program with no C library: it supplies the mem* functions the Rust core
 * may call, an entry point and an exit system call, and nothing else. If the
 * core needed anything more from libc, the link would fail. Linux x86-64. */
#include <stddef.h>
#include <stdint.h>
uint64_t wl_nostd_check(void);
void *memcpy(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d; }
void *memmove(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; if (a < b) { while (n--) *a++ = *b++; } else { a += n; b += n; while (n--) *--a = *--b; } return d; }
void *memset(void *d, int c, size_t n) { unsigned char *a = d; while (n--) *a++ = (unsigned char)c; return d; }
int memcmp(const void *x, const void *y, size_t n) { const unsigned char *a = x, *b = y; for (; n; n--, a++, b++) if (*a != *b) return *a - *b; return 0; }
int bcmp(const void *x, const void *y, size_t n) { return memcmp(x, y, n); }
static long sys_exit(long code) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(60), "D"(code) : "rcx", "r11", "memory"); return r; }
__attribute__((force_align_arg_pointer)) void _start(void) { uint64_t uj = wl_nostd_check(); sys_exit(uj > 0 ? 0 : 1); }
