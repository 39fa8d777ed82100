/* Gate lookup tables of the KE_EGRU integer path (see gen_tables.py). */
#ifndef KE_EGRU_TABLES_H_
#define KE_EGRU_TABLES_H_

#include <stdint.h>

extern const int16_t ke_egru_sigmoid_table[257];
extern const int16_t ke_egru_tanh_table[257];

#endif /* KE_EGRU_TABLES_H_ */
