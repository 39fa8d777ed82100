/* Where TFLM's log output (MicroPrintf -> DebugLog) goes. Each platform sets one sink:
 * the firmware writes to the semihosting console, the host library keeps the text so a
 * failed call can raise a Python exception carrying TFLM's own reason. */
#ifndef KE_MICRO_LOG_H_
#define KE_MICRO_LOG_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*KeLogSink)(const char *text);
void ke_set_log_sink(KeLogSink sink);

/* True for TFLM messages after which TFLM cannot continue safely: its arena allocators
 * print "Failed to allocate ..."/"Failed to resize ..." and return NULL, which some kernels'
 * Init/Prepare then dereference or TFLITE_DCHECK (TFLM's abort prints "HALTED" and spins).
 * Sinks stop the run at this message, so a too-small arena is an error, never a fault. */
int ke_log_is_fatal(const char *text);

#ifdef __cplusplus
}
#endif
#endif  /* KE_MICRO_LOG_H_ */
