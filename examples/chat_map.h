/*
 * chat_map — a hash table of byte-string keys for chat_server's rooms and
 * names. Intrusive: the caller embeds a chat_map_node in its own struct
 * and points it at the key, so a lookup allocates nothing. Keys are hashed
 * with SipHash-1-3 under a random key chosen at start-up, so clients
 * cannot pick names that all land in one bucket.
 */
#ifndef CHAT_MAP_H
#define CHAT_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct chat_map_node {
    struct chat_map_node *next;
    uint64_t hash;
    const char *key;
    size_t len;
} chat_map_node;

typedef struct chat_map {
    chat_map_node **buckets;
    size_t nbuckets; /* a power of two, or 0 */
    size_t count;
    uint64_t k0, k1; /* SipHash key */
} chat_map;

void chat_map_init(chat_map *m, const uint8_t key[16]);
/* Frees the bucket array; the nodes belong to the caller. */
void chat_map_free(chat_map *m);
chat_map_node *chat_map_get(const chat_map *m, const char *key, size_t len);
/* Adds n (n->key and n->len set, the key not present yet). Returns 0, or
 * -1 when the first bucket array cannot be allocated (a full table that
 * cannot grow still takes the node, just with longer chains). */
int chat_map_put(chat_map *m, chat_map_node *n);
void chat_map_del(chat_map *m, chat_map_node *n);
/* Iteration in no particular order. The map must not change during an
 * iteration, except by deleting (and freeing) the node just returned. */
typedef struct chat_map_iter {
    size_t bucket;
    chat_map_node *next;
} chat_map_iter;

void chat_map_iter_init(chat_map_iter *it);
chat_map_node *chat_map_iter_next(const chat_map *m, chat_map_iter *it);

/* SipHash-c-d (Aumasson and Bernstein, 2012); the map uses c = 1, d = 3. */
uint64_t chat_siphash(unsigned c, unsigned d, uint64_t k0, uint64_t k1, const void *p, size_t n);

#endif
