/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci/msix.h"
#include "pci/pci.h"

/* Capability layout: ID, next, message control, table offset|BIR, PBA offset|BIR */
#define CAP_CONTROL 2
#define CAP_TABLE 4
#define CAP_PBA 8

int msix_init(struct msix *m, unsigned n_vectors, const struct msix_ops *ops, void *opaque)
{
	memset(m, 0, sizeof(*m));
	if (n_vectors == 0 || n_vectors > MSIX_MAX_VECTORS)
		return -EINVAL;
	m->table = calloc(n_vectors, sizeof(*m->table));
	m->pba = calloc((n_vectors + 63) / 64, sizeof(*m->pba));
	if (!m->table || !m->pba) {
		free(m->table);
		free(m->pba);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->n_vectors = n_vectors;
	m->ops = ops;
	m->opaque = opaque;
	msix_reset(m);
	return 0;
}

void msix_done(struct msix *m)
{
	if (!m->table)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->table);
	free(m->pba);
	m->table = NULL;
	m->pba = NULL;
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->n_vectors; i++)
		m->table[i] = (struct msix_entry){ .control = MSIX_ENTRY_MASKED };
	memset(m->pba, 0, (m->n_vectors + 63) / 64 * sizeof(*m->pba));
	m->enabled = false;
	m->masked = false;
	if (m->pci)
		pci_config_set(m->pci, m->cap + CAP_CONTROL, m->n_vectors - 1, 2);
	pthread_mutex_unlock(&m->lock);
}

uint32_t msix_table_size(const struct msix *m)
{
	return m->n_vectors * MSIX_ENTRY_SIZE;
}

uint32_t msix_pba_size(const struct msix *m)
{
	return (m->n_vectors + 63) / 64 * 8;
}

int msix_add_capability(struct msix *m, struct pci_device *d, unsigned bar, uint32_t table_offset,
			uint32_t pba_offset)
{
	if (bar >= PCI_NUM_BARS || table_offset % 8 || pba_offset % 8)
		return -EINVAL;
	int cap = pci_device_add_capability(d, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0)
		return cap;
	pci_config_set(d, cap + CAP_CONTROL, m->n_vectors - 1, 2);
	pci_device_set_wmask(d, cap + CAP_CONTROL, MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL, 2);
	pci_config_set(d, cap + CAP_TABLE, table_offset | bar, 4);
	pci_config_set(d, cap + CAP_PBA, pba_offset | bar, 4);
	m->pci = d;
	m->cap = (unsigned)cap;
	return cap;
}

static bool vector_masked(const struct msix *m, unsigned v)
{
	return !m->enabled || m->masked || (m->table[v].control & MSIX_ENTRY_MASKED);
}

static uint64_t vector_addr(const struct msix *m, unsigned v)
{
	return (uint64_t)m->table[v].addr_hi << 32 | m->table[v].addr_lo;
}

/* Routes v and delivers it when pending; called with the lock held once v may fire. */
static void vector_unmasked(struct msix *m, unsigned v)
{
	if (m->ops && m->ops->route(m->opaque, v, vector_addr(m, v), m->table[v].data) < 0) {
		m->route_errors++;
		return;
	}
	if (m->pba[v / 64] & (1ULL << (v % 64))) {
		m->pba[v / 64] &= ~(1ULL << (v % 64));
		m->fired++;
		if (m->ops)
			m->ops->fire(m->opaque, v);
	}
}

void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len)
{
	memset(data, 0xff, len);
	if ((len != 4 && len != 8) || offset % len || offset >= msix_table_size(m))
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(data, (uint8_t *)m->table + offset, len);
	pthread_mutex_unlock(&m->lock);
}

void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data, uint32_t len)
{
	if ((len != 4 && len != 8) || offset % len || offset >= msix_table_size(m))
		return;
	unsigned v = (unsigned)(offset / MSIX_ENTRY_SIZE);

	pthread_mutex_lock(&m->lock);
	bool was_masked = vector_masked(m, v);
	uint32_t old_data = m->table[v].data;
	uint64_t old_addr = vector_addr(m, v);

	memcpy((uint8_t *)m->table + offset, data, len);
	/* Only the mask bit of vector control is writable. */
	m->table[v].control &= MSIX_ENTRY_MASKED;
	if (!vector_masked(m, v) &&
	    (was_masked || old_data != m->table[v].data || old_addr != vector_addr(m, v)))
		vector_unmasked(m, v);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len)
{
	memset(data, 0xff, len);
	if ((len != 4 && len != 8) || offset % len || offset >= msix_pba_size(m))
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(data, (uint8_t *)m->pba + offset, len);
	pthread_mutex_unlock(&m->lock);
}

void msix_config_written(struct msix *m, uint32_t offset, uint32_t len)
{
	if (!m->pci || offset >= m->cap + CAP_CONTROL + 2 || offset + len <= m->cap + CAP_CONTROL)
		return;
	uint16_t control = (uint16_t)pci_config_get(m->pci, m->cap + CAP_CONTROL, 2);

	pthread_mutex_lock(&m->lock);
	bool was_enabled = m->enabled && !m->masked;
	m->enabled = control & MSIX_CONTROL_ENABLE;
	m->masked = control & MSIX_CONTROL_MASKALL;
	if (!was_enabled && m->enabled && !m->masked)
		for (unsigned v = 0; v < m->n_vectors; v++)
			if (!(m->table[v].control & MSIX_ENTRY_MASKED))
				vector_unmasked(m, v);
	pthread_mutex_unlock(&m->lock);
}

bool msix_notify(struct msix *m, unsigned vector)
{
	bool fired = false;

	if (vector >= m->n_vectors)
		return false;
	pthread_mutex_lock(&m->lock);
	if (vector_masked(m, vector)) {
		m->pba[vector / 64] |= 1ULL << (vector % 64);
		m->pended++;
	} else {
		m->fired++;
		fired = true;
		if (m->ops)
			m->ops->fire(m->opaque, vector);
	}
	pthread_mutex_unlock(&m->lock);
	return fired;
}

bool msix_is_pending(struct msix *m, unsigned vector)
{
	bool p;

	if (vector >= m->n_vectors)
		return false;
	pthread_mutex_lock(&m->lock);
	p = m->pba[vector / 64] & (1ULL << (vector % 64));
	pthread_mutex_unlock(&m->lock);
	return p;
}
