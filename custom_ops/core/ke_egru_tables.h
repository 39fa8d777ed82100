/* Gate lookup tables of the KE_EGRU integer path (see gen_tables.py). */
#ifndef KE_EGRU_TABLES_H_
#define KE_EGRU_TABLES_H_

#include <stdint.h>

/* [0]: sigmoid, [1]: tanh; one array so that one base register reaches both. */
extern const int16_t ke_egru_gate_tables[2][257];
#define ke_egru_sigmoid_table (ke_egru_gate_tables[0])
#define ke_egru_tanh_table (ke_egru_gate_tables[1])

#endif /* KE_EGRU_TABLES_H_ */
