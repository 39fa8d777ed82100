/* Arm semihosting (the debugger-call interface QEMU implements with
 * -semihosting-config enable=on): console output and process exit with a status code.
 * Written by hand so the firmware needs no rdimon library and no file handles. */
#ifndef KE_SEMIHOST_H_
#define KE_SEMIHOST_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a NUL-terminated string to the host console (SYS_WRITE0). */
void ke_semihost_write(const char *s);
/* Ends the emulation with `code` as QEMU's exit status (SYS_EXIT_EXTENDED). */
void ke_semihost_exit(int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif
#endif  /* KE_SEMIHOST_H_ */
