/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 output for the converter (`imgward convert -O qcow2`): an
 * iw_sink (convert.h) that lays out a qcow2 v3 image (compat 1.1,
 * refcount_order 4, no compression, no backing file) on an fd.
 *
 * Layout (docs/interop/qcow2.txt):
 *   cluster 0        header (+ qemu's feature name table above 4 KiB
 *                    clusters, as `qemu-img create` writes it)
 *   clusters 1..     the L1 table (its size is fixed by the virtual size)
 *   then             data clusters and L2 tables, in allocation order
 *                    (bump allocator: space is never reused, so the bytes
 *                    of a cluster nobody wrote stay holes and read as zero)
 *   at the end       refcount blocks, then the refcount table, written by
 *                    qcow2_writer_finish(): every cluster has refcount 1.
 *
 * Memory is bounded whatever the virtual size: L1 entries are written
 * through to the file when an L2 table is allocated (a bitmap of l1_size
 * bits says which exist: at most 512 KiB, since qemu caps the L1 at
 * 32 MiB); L2 tables live in a direct-mapped cache of at most
 * QCOW2_WRITER_L2_CACHE bytes (at least two tables) and are written back
 * when evicted or at finish. A table evicted and needed again is read
 * back from the fd, so the fd must be open for reading and writing. It
 * must be an empty regular file (or one the writer may overwrite and
 * truncate): holes are what make unwritten bytes read as zero.
 *
 * The writer uses pread, pwrite and ftruncate on the fd.
 */
#ifndef IW_QCOW2_WRITER_H
#define IW_QCOW2_WRITER_H

#include <stdint.h>

#include "convert.h"

#define QCOW2_WRITER_DEFAULT_CLUSTER (64u << 10)
/* L2 tables kept in memory; 4 MiB covers 32 GiB of guest with 64 KiB
 * clusters and 256 MiB with 512-byte ones, both far more than the
 * engine's chunks in flight, so a table is almost never read back */
#define QCOW2_WRITER_L2_CACHE (4u << 20)

struct qcow2_writer;

/*
 * A writer for a disk of virtual_size bytes (rounded up to 512 in the
 * header: qemu counts whole sectors) with clusters of cluster_size bytes
 * (a power of two, 512 B .. 2 MiB). -EINVAL for a bad cluster size,
 * -EFBIG when the L1 table would exceed qemu's 32 MiB limit, -ENOMEM.
 */
int qcow2_writer_new(int fd, uint64_t virtual_size, uint32_t cluster_size,
		     struct qcow2_writer **ret);
/*
 * Keep at most `tables` L2 tables in memory (at least 1) instead of
 * QCOW2_WRITER_L2_CACHE bytes' worth; before the first write only. For
 * tests: a tiny cache makes every eviction and read-back path run.
 */
int qcow2_writer_set_l2_cache(struct qcow2_writer *w, size_t tables);
/* The sink to hand to iw_convert() (IW_OUTPUT_SINK). */
struct iw_sink *qcow2_writer_sink(struct qcow2_writer *w);
/*
 * After every write returned: writes back the L2 tables, the refcount
 * blocks and table, the header, and sizes the file. 0 or a negative
 * errno (-EFBIG if the refcount table would exceed qemu's 8 MiB limit).
 */
int qcow2_writer_finish(struct qcow2_writer *w);
/* Host bytes the image takes (valid after a successful finish). */
uint64_t qcow2_writer_file_size(const struct qcow2_writer *w);
void qcow2_writer_free(struct qcow2_writer *w);

#endif
