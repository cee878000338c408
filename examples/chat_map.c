/* Hash table with SipHash-1-3 keys; see chat_map.h. */
#include "chat_map.h"

#include <stdlib.h>
#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t chat_siphash(unsigned c, unsigned d, uint64_t k0, uint64_t k1, const void *data,
                      size_t n)
{
    const uint8_t *p = data;
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                     k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
    size_t whole = n & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(p + i);
        v[3] ^= m;
        for (unsigned r = 0; r < c; r++)
            sip_round(v);
        v[0] ^= m;
    }
    uint64_t last = (uint64_t)(n & 0xff) << 56;
    for (size_t i = 0; i < (n & 7); i++)
        last |= (uint64_t)p[whole + i] << (8 * i);
    v[3] ^= last;
    for (unsigned r = 0; r < c; r++)
        sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (unsigned r = 0; r < d; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void chat_map_init(chat_map *m, const uint8_t key[16])
{
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
    m->k0 = load_le64(key);
    m->k1 = load_le64(key + 8);
}

void chat_map_free(chat_map *m)
{
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

chat_map_node *chat_map_get(const chat_map *m, const char *key, size_t len)
{
    if (!m->count)
        return NULL;
    uint64_t h = chat_siphash(1, 3, m->k0, m->k1, key, len);
    for (chat_map_node *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && n->len == len && !memcmp(n->key, key, len))
            return n;
    return NULL;
}

static void grow(chat_map *m)
{
    size_t nb = m->nbuckets ? 2 * m->nbuckets : 8;
    chat_map_node **b = calloc(nb, sizeof(chat_map_node *));
    if (!b)
        return;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (chat_map_node *n = m->buckets[i], *next; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

int chat_map_put(chat_map *m, chat_map_node *n)
{
    if (m->count >= m->nbuckets)
        grow(m);
    if (!m->nbuckets)
        return -1;
    n->hash = chat_siphash(1, 3, m->k0, m->k1, n->key, n->len);
    chat_map_node **b = &m->buckets[n->hash & (m->nbuckets - 1)];
    n->next = *b;
    *b = n;
    m->count++;
    return 0;
}

void chat_map_del(chat_map *m, chat_map_node *n)
{
    for (chat_map_node **pp = &m->buckets[n->hash & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next)
        if (*pp == n) {
            *pp = n->next;
            m->count--;
            return;
        }
}

void chat_map_iter_init(chat_map_iter *it)
{
    it->bucket = 0;
    it->next = NULL;
}

chat_map_node *chat_map_iter_next(const chat_map *m, chat_map_iter *it)
{
    while (!it->next) {
        if (it->bucket >= m->nbuckets)
            return NULL;
        it->next = m->buckets[it->bucket++];
    }
    chat_map_node *n = it->next;
    it->next = n->next; /* read now: the caller may delete n */
    return n;
}
