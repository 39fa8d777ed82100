/* Status codes shared by the check/prepare helpers of every op in custom_ops/core/
 * (0 = ok).  Each op words the limits in its own terms (e.g. ke_egru_status_string). */
#ifndef KE_STATUS_H_
#define KE_STATUS_H_

typedef enum {
  KE_OK = 0,
  KE_ERR_SIZE = 1,      /* a size (units, input features) out of range         */
  KE_ERR_OFFSETS = 2,   /* compressed rows: offsets not monotone / wrong total */
  KE_ERR_INDEX = 3,     /* compressed rows: an index outside 0..cols-1         */
  KE_ERR_BIAS = 4,      /* an int32 bias too large for the accumulators        */
  KE_ERR_SCALE = 5,     /* a scale not positive/finite or too extreme          */
  KE_ERR_THRESHOLD = 6, /* a threshold outside its range                       */
  KE_ERR_RANGE = 7      /* accumulators too large for the scales               */
} ke_status;

#endif /* KE_STATUS_H_ */
