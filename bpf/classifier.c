// SPDX-License-Identifier: GPL-2.0-or-later OR GPL-3.0-or-later
/*
 * Copyright: (c) 2026, isp.ops contributors
 * GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
 *
 * tc classifier of the isp.ops shaping bridge (SCHED_CLS, direct action, clsact egress).
 * Compiled and loaded by bcc from plugins/module_utils/shaping/classifier.py; see bpf/README.md.
 *
 * One instance per interface and direction:
 *   ISP_DIRECTION=0  download, egress towards the access network: look up the DESTINATION.
 *   ISP_DIRECTION=1  upload, egress towards the Internet: look up the SOURCE.
 * A hit sets skb->priority to the circuit's HTB class id (major<<16|minor) and counts the
 * packet for the circuit; a miss sets the default class id from isp_default[0] and counts the
 * packet in slot 0. The program never drops: it always returns TC_ACT_OK.
 *
 * Only UAPI headers are used, so any kernel header tree of 5.x/6.x works with a newer kernel.
 */
#include <uapi/linux/bpf.h>
#include <uapi/linux/if_ether.h>
#include <uapi/linux/in.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/ipv6.h>
#include <uapi/linux/pkt_cls.h>

#ifndef ISP_DIRECTION
#error "ISP_DIRECTION must be 0 (download: destination) or 1 (upload: source)"
#endif
#ifndef ISP_MAX_PREFIXES
#define ISP_MAX_PREFIXES 131072
#endif
#ifndef ISP_MAX_CIRCUITS
#define ISP_MAX_CIRCUITS 65536
#endif

/* network byte order of a 16-bit constant (BPF runs in host byte order) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ISP_HTONS(x) ((__u16)__builtin_bswap16(x))
#else
#define ISP_HTONS(x) ((__u16)(x))
#endif

struct isp_v4_key {
    u32 prefixlen;          /* 0..32 */
    u32 addr;               /* network byte order */
};

struct isp_v6_key {
    u32 prefixlen;          /* 0..128 */
    u8 addr[16];            /* network byte order */
};

struct isp_circuit {
    u32 classid;            /* HTB class id, major << 16 | minor */
    u32 circuit;            /* index into isp_stats, 1..ISP_MAX_CIRCUITS-1 */
};

struct isp_counter {
    u64 bytes;              /* skb->len: L2 frame without FCS (a GSO skb: headers once) */
    u64 packets;            /* wire packets: the segments of a GSO skb count one by one */
};

struct isp_vlan_hdr {
    __be16 tci;
    __be16 encap_proto;
};

/*
 * With ISP_PIN_DIR defined the loader reuses maps that a previous load pinned there, so a
 * reload of the program keeps the prefixes and the counters.
 */
#ifdef ISP_PIN_DIR
#define ISP_MAP(type, key, leaf, name, max, flags, file) \
    BPF_TABLE_PINNED(type, key, leaf, name, max, ISP_PIN_DIR "/" file, flags)
#else
#define ISP_MAP(type, key, leaf, name, max, flags, file) \
    BPF_F_TABLE(type, key, leaf, name, max, flags)
#endif

ISP_MAP("lpm_trie", struct isp_v4_key, struct isp_circuit, isp_v4, ISP_MAX_PREFIXES,
        BPF_F_NO_PREALLOC, "v4");
ISP_MAP("lpm_trie", struct isp_v6_key, struct isp_circuit, isp_v6, ISP_MAX_PREFIXES,
        BPF_F_NO_PREALLOC, "v6");
ISP_MAP("percpu_array", u32, struct isp_counter, isp_stats, ISP_MAX_CIRCUITS, 0, "stats");
ISP_MAP("array", u32, u32, isp_default, 1, 0, "default");

static __always_inline void isp_count(u32 slot, struct __sk_buff *skb)
{
    struct isp_counter *c = isp_stats.lookup(&slot);
    u32 segs = skb->gso_segs;

    if (c) {                /* per-CPU slot: no atomics needed */
        c->bytes += skb->len;
        c->packets += segs ? segs : 1;
    }
}

static __always_inline struct isp_circuit *isp_lookup(struct __sk_buff *skb)
{
    __be16 proto;
    u32 off = ETH_HLEN;

    if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)) < 0)
        return NULL;
    /* One 802.1Q (or 802.1ad) tag still in the frame. A tag that the kernel moved to
     * skb->vlan_tci (the usual case on a bridge) is not in the data, so nothing to skip. */
    if (proto == ISP_HTONS(ETH_P_8021Q) || proto == ISP_HTONS(ETH_P_8021AD)) {
        struct isp_vlan_hdr vh;

        if (bpf_skb_load_bytes(skb, ETH_HLEN, &vh, sizeof(vh)) < 0)
            return NULL;
        proto = vh.encap_proto;
        off += sizeof(vh);
    }

    if (proto == ISP_HTONS(ETH_P_IP)) {
        struct isp_v4_key key = {.prefixlen = 32};
        u32 field = ISP_DIRECTION ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr);

        if (bpf_skb_load_bytes(skb, off + field, &key.addr, sizeof(key.addr)) < 0)
            return NULL;
        return isp_v4.lookup(&key);
    }
    if (proto == ISP_HTONS(ETH_P_IPV6)) {
        struct isp_v6_key key = {.prefixlen = 128};
        u32 field = ISP_DIRECTION ? offsetof(struct ipv6hdr, saddr) : offsetof(struct ipv6hdr, daddr);

        if (bpf_skb_load_bytes(skb, off + field, &key.addr, sizeof(key.addr)) < 0)
            return NULL;
        return isp_v6.lookup(&key);
    }
    return NULL;            /* ARP, LLDP, ...: default class */
}

/* Under an mq root each transmit queue has its own HTB, whose handle is the major of the
 * classes in it: the packet must leave through queue major-1. A queue_mapping written here is
 * read back by the kernel's queue selection as a recorded receive queue (value - 1), so writing
 * the major selects queue major-1 when the device has no XPS map (the shaper clears XPS). */
static __always_inline void isp_steer(struct __sk_buff *skb, u32 classid)
{
    skb->queue_mapping = classid >> 16;
}

int isp_classify(struct __sk_buff *skb)
{
    struct isp_circuit *hit = isp_lookup(skb);
    u32 zero = 0;

    if (hit) {
        skb->priority = hit->classid;
        isp_steer(skb, hit->classid);
        if (hit->circuit > 0 && hit->circuit < ISP_MAX_CIRCUITS)
            isp_count(hit->circuit, skb);
        return TC_ACT_OK;
    }

    u32 *dflt = isp_default.lookup(&zero);

    skb->priority = dflt ? *dflt : 0;
    if (dflt)
        isp_steer(skb, *dflt);
    isp_count(0, skb);
    return TC_ACT_OK;
}
