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

#ifdef __cplusplus
}
#endif
#endif  /* KE_MICRO_LOG_H_ */
