/*
 * meta_properties.c: load or create <log dir>/meta.properties (Kafka's
 * layout: "version=1", "node.id=N", "cluster.id=<22 chars base64url>",
 * "directory.id=<22 chars>"). Written via a temp file, fsync and rename.
 */
#include "meta/meta_properties.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/err.h"

static void random_id(char *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)rand();
	}
	/* 16 bytes = 128 bits -> 22 base64 digits (the last holds 2 bits). */
	uint32_t bits = 0; /* holds at most 13 meaningful bits */
	int nbits = 0, n = 0;
	for (size_t i = 0; i < sizeof(b); i++) {
		bits = ((bits << 8) | b[i]) & 0xffff;
		nbits += 8;
		while (nbits >= 6) {
			out[n++] = alphabet[(bits >> (nbits - 6)) & 63];
			nbits -= 6;
		}
	}
	if (nbits)
		out[n++] = alphabet[(bits << (6 - nbits)) & 63];
	out[n] = 0;
}

static int write_file(const char *dir, int32_t node_id, const char *cluster_id)
{
	char path[1100], tmp[1110], dirid[32], text[256];
	random_id(dirid);
	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int n = snprintf(
	    text, sizeof(text),
	    "#\n#Written by fjord\nversion=1\nnode.id=%d\ncluster.id=%s\ndirectory.id=%s\n",
	    node_id, cluster_id, dirid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)n) != n || fsync(fd) < 0) {
		int e = errno ? -errno : -EIO;
		close(fd);
		return e;
	}
	close(fd);
	if (rename(tmp, path) < 0)
		return -errno;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int meta_properties_load(const char *dir, int32_t node_id, char *cluster_id, size_t idlen,
                         char *err, size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			return ERR_INVALID_CONFIG;
		}
		char id[32];
		random_id(id);
		int rc = write_file(dir, node_id, id);
		if (rc) {
			snprintf(err, errlen, "cannot write %s: %s", path, err_str(rc));
			return rc;
		}
		snprintf(cluster_id, idlen, "%s", id);
		return 0;
	}
	char line[512];
	long stored_node = -1;
	cluster_id[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!strncmp(line, "node.id=", 8) || !strncmp(line, "broker.id=", 10))
			stored_node = strtol(strchr(line, '=') + 1, NULL, 10);
		else if (!strncmp(line, "cluster.id=", 11))
			snprintf(cluster_id, idlen, "%s", line + 11);
	}
	fclose(f);
	if (stored_node >= 0 && stored_node != node_id) {
		snprintf(err, errlen,
		         "%s says node.id=%ld but the configuration says node.id=%d: this log "
		         "directory belongs to another broker",
		         path, stored_node, node_id);
		return ERR_INVALID_CONFIG;
	}
	if (!cluster_id[0]) {
		snprintf(err, errlen, "%s has no cluster.id", path);
		return ERR_INVALID_CONFIG;
	}
	return 0;
}
