/* SPDX-License-Identifier: Apache-2.0 */
/* Model-specific registers every vCPU starts with: SYSCALL/SYSENTER cleared, TSC at zero, fast
 * strings on and the MTRRs enabled with write-back default, as firmware would leave them. */
#pragma once

int msr_setup_vcpu(int vcpu_fd);
