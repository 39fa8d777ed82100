/* Small C API over TFLM's MicroInterpreter for the host shared library
 * (libke_tflm.so), used from Python through ctypes (keras_events/micro/interpreter.py).
 * Every function returning int returns 0 on success; on failure ke_tflm_last_error()
 * holds TFLM's printed reason. */
#ifndef KE_TFLM_C_API_H_
#define KE_TFLM_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct KeTflm KeTflm;

/* Copies the model, verifies it, allocates an arena of arena_size bytes, runs
 * AllocateTensors (every op's Prepare). Returns NULL on failure. */
KeTflm *ke_tflm_create(const void *model, size_t model_size, size_t arena_size);
void ke_tflm_destroy(KeTflm *t);
const char *ke_tflm_last_error(void);

int ke_tflm_num_inputs(const KeTflm *t);
int ke_tflm_num_outputs(const KeTflm *t);
/* Tensor description: TfLiteType, rank and dims (up to max_dims), bytes, per-tensor
 * quantization (scale 0 when not quantized). */
int ke_tflm_tensor_info(KeTflm *t, int is_output, int index, int *type, int *rank, int *dims,
                        int max_dims, size_t *bytes, float *scale, int32_t *zero_point);
int ke_tflm_set_input(KeTflm *t, int index, const void *data, size_t bytes);
int ke_tflm_get_output(KeTflm *t, int index, void *data, size_t bytes);
int ke_tflm_invoke(KeTflm *t);
/* Resets variable tensors and every op's state (streaming models start over). */
int ke_tflm_reset(KeTflm *t);
size_t ke_tflm_arena_used_bytes(const KeTflm *t);

#ifdef __cplusplus
}
#endif
#endif /* KE_TFLM_C_API_H_ */
