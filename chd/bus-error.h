/* SPDX-License-Identifier: Apache-2.0 */
/* The org.cloudhypervisor.chd1.Error.* names and their errno mapping, for sd_bus_error_map. */
#pragma once

#include <systemd/sd-bus.h>

#define CHD_ERROR_PREFIX "org.cloudhypervisor.chd1.Error."
#define CHD_ERROR_NO_SUCH_VM CHD_ERROR_PREFIX "NoSuchVM"
#define CHD_ERROR_VM_EXISTS CHD_ERROR_PREFIX "VMExists"
#define CHD_ERROR_INVALID_DEFINITION CHD_ERROR_PREFIX "InvalidDefinition"
#define CHD_ERROR_INVALID_ARGUMENT CHD_ERROR_PREFIX "InvalidArgument"
#define CHD_ERROR_INVALID_STATE CHD_ERROR_PREFIX "InvalidState"
#define CHD_ERROR_BUSY CHD_ERROR_PREFIX "Busy"
#define CHD_ERROR_NOT_SUPPORTED CHD_ERROR_PREFIX "NotSupported"
#define CHD_ERROR_ACCESS_DENIED CHD_ERROR_PREFIX "AccessDenied"
#define CHD_ERROR_WORKER_FAILED CHD_ERROR_PREFIX "WorkerFailed"
#define CHD_ERROR_IO_ERROR CHD_ERROR_PREFIX "IOError"

/* Registered with sd_bus_error_add_map() by chd_bus_error_register(); clients may use it too. */
extern const sd_bus_error_map chd_bus_error_map[];

int chd_bus_error_register(void);
