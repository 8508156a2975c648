/* SPDX-License-Identifier: Apache-2.0 */
/* The translation macros live in common/i18n.h now that chctl and chd use them too; this name stays
 * so the VMM's includes keep working. Angle brackets: a quoted name would find this file again. */
#pragma once

#include <i18n.h>
