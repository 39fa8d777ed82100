/* Output of the bare M0 firmware without printf (keeps newlib's formatter, several KiB,
 * out of the flash figure): one line of space-separated integers over semihosting. */
#ifndef KE_M0_PRINT_H_
#define KE_M0_PRINT_H_

#include <stdint.h>

#include "semihost.h"

/* Writes "<tag> <index> v0 v1 ... v(n-1)\n" (values as decimal int32). */
static inline void ke_m0_print_ints(const char* tag, int32_t index, const int32_t* values,
                                    int32_t n) {
  char line[12 * 8 + 32];
  int len = 0;
  for (const char* c = tag; *c; ++c) line[len++] = *c;
  for (int32_t k = -1; k < n; ++k) {
    int32_t v = k < 0 ? index : values[k];
    char digits[12];
    int d = 0;
    uint32_t m = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    do { digits[d++] = (char)('0' + m % 10u); m /= 10u; } while (m);
    line[len++] = ' ';
    if (v < 0) line[len++] = '-';
    while (d) line[len++] = digits[--d];
    if (len > (int)sizeof line - 16 || k == n - 1) { /* flush; the reader joins lines */
      line[len] = 0;
      ke_semihost_write(line);
      len = 0;
    }
  }
  ke_semihost_write("\n");
}

#endif /* KE_M0_PRINT_H_ */
