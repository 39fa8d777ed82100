/* Marker functions around the measured region. They do nothing; the QEMU plugin
 * (micro/qemu_plugin/insn_count.c) is told their addresses and counts the guest
 * instructions executed between a call to begin and the next call to end. */
#ifndef KE_COUNTERS_H_
#define KE_COUNTERS_H_
#ifdef __cplusplus
extern "C" {
#endif
void ke_count_begin(void);
void ke_count_end(void);
#ifdef __cplusplus
}
#endif
#endif  /* KE_COUNTERS_H_ */
