/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Little-endian byte readers and writers and the error-message helper that
 * the wire codecs (mp_wire.cc, mp_ctl.cc) share. C++ only.
 */

#ifndef UCT_MP_CODEC_H_
#define UCT_MP_CODEC_H_

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace uct_mp {

/* Message into the caller's error buffer (which may be absent) */
inline void set_error(char *errmsg, size_t errmsg_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

inline void set_error(char *errmsg, size_t errmsg_len, const char *fmt, ...)
{
    va_list ap;

    if ((errmsg == nullptr) || (errmsg_len == 0)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

/* Little-endian writer; the caller has checked that everything fits */
class byte_writer {
public:
    explicit byte_writer(uint8_t *buf) : m_buf(buf), m_pos(0) {}

    void u8(uint8_t v) { m_buf[m_pos++] = v; }
    void u16(uint16_t v) { u8(v & 0xff); u8(v >> 8); }
    void u32(uint32_t v) { u16(v & 0xffff); u16(v >> 16); }

    void bytes(const void *data, size_t len) {
        if (len > 0) {
            memcpy(m_buf + m_pos, data, len);
        }
        m_pos += len;
    }

    uint8_t *cur() { return m_buf + m_pos; }
    void skip(size_t len) { m_pos += len; }
    size_t pos() const { return m_pos; }
    const uint8_t *buf() const { return m_buf; }

private:
    uint8_t *m_buf;
    size_t  m_pos;
};

/* Bounded little-endian reader: every read checks the remaining length */
class byte_reader {
public:
    byte_reader(const uint8_t *buf, size_t len) :
        m_buf(buf), m_len(len), m_pos(0) {}

    bool u8(uint8_t *v) {
        if (m_pos + 1 > m_len) {
            return false;
        }
        *v = m_buf[m_pos++];
        return true;
    }

    bool u16(uint16_t *v) {
        uint8_t lo, hi;
        if (!u8(&lo) || !u8(&hi)) {
            return false;
        }
        *v = static_cast<uint16_t>(lo | (hi << 8));
        return true;
    }

    bool u32(uint32_t *v) {
        uint16_t lo, hi;
        if (!u16(&lo) || !u16(&hi)) {
            return false;
        }
        *v = static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16);
        return true;
    }

    /* point *data at the next len bytes */
    bool bytes(size_t len, const void **data) {
        if (m_pos + len > m_len) {
            return false;
        }
        *data  = m_buf + m_pos;
        m_pos += len;
        return true;
    }

    const uint8_t *cur() const { return m_buf + m_pos; }
    void skip(size_t len) { m_pos += len; }
    size_t pos() const { return m_pos; }
    size_t remaining() const { return m_len - m_pos; }

private:
    const uint8_t *m_buf;
    size_t        m_len;
    size_t        m_pos;
};

} // namespace uct_mp

#endif
