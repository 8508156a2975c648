/* SPDX-License-Identifier: Apache-2.0 */
/* Marks user-facing messages for translation (STYLE rule 13). glibc carries gettext, so this adds
 * no dependency; until a program binds the text domain (po/), gettext() returns the English text. */
#pragma once

#include <libintl.h>

#ifndef _
#define _(s) gettext(s)
#endif
#ifndef N_
#define N_(s) s
#endif
