/* std — the standard operators, built on the public SDK like any plugin. */
#include "std_ops.h"

WEIR_PLUGIN("std", "0.1.0", "Standard stateless operators: passthrough, filter, split, rekey, branch, log",
            &std_passthrough_op, &std_filter_op, &std_split_op, &std_rekey_op, &std_branch_op,
            &std_log_op)
