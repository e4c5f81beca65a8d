/*
 * meta_properties.h: the "meta.properties" file Kafka keeps in every log
 * directory: version, node.id, cluster.id and directory.id. Created on the
 * first start; on later starts a node.id that differs from the stored one is
 * refused (the data belongs to another broker).
 */
#ifndef FJORD_META_META_PROPERTIES_H
#define FJORD_META_META_PROPERTIES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read dir/meta.properties, or create it with a new random cluster id.
 * cluster_id receives the 22-character id. Errors: ERR_INVALID_CONFIG with a
 * message in err (node id mismatch, unreadable file), or -errno.
 */
int meta_properties_load(const char *dir, int32_t node_id, char *cluster_id, size_t idlen,
                         char *err, size_t errlen);

#endif
