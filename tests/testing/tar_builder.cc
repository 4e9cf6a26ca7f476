// TarBuilder: see tar_builder.h. Follows POSIX ustar/pax and GNU long-name conventions.
#include "testing/tar_builder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace comet::testing {
namespace {

constexpr size_t kBlock = 512;

// An octal field of `width` bytes (NUL-terminated); values too large use GNU base-256.
void PutNumber(std::string& header, size_t offset, size_t width, uint64_t value) {
  uint64_t max_octal = (uint64_t{1} << (3 * (width - 1))) - 1;
  if (value <= max_octal) {
    (void)std::snprintf(header.data() + offset, width, "%0*llo", static_cast<int>(width - 1),
                        static_cast<unsigned long long>(value));
    return;
  }
  header[offset] = static_cast<char>(0x80);
  for (size_t i = width - 1; i > 0; --i) {
    header[offset + i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

void PutString(std::string& header, size_t offset, size_t width, std::string_view value) {
  std::memcpy(header.data() + offset, value.data(), std::min(width, value.size()));
}

std::string PaxRecord(std::string_view key, std::string_view value) {
  size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t length = body + 1;
  while (std::to_string(length).size() + body != length) {
    ++length;
  }
  return std::to_string(length) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

void AppendPadded(std::string& out, std::string_view data) {
  out.append(data);
  out.append((kBlock - data.size() % kBlock) % kBlock, '\0');
}

}  // namespace

std::string TarHeader(const TarEntry& entry, std::string_view name, std::string_view link,
                      char type, uint64_t size) {
  std::string header(kBlock, '\0');
  PutString(header, 0, 100, name);
  PutNumber(header, 100, 8, entry.mode);
  PutNumber(header, 108, 8, entry.uid);
  PutNumber(header, 116, 8, entry.gid);
  PutNumber(header, 124, 12, size);
  PutNumber(header, 136, 12, static_cast<uint64_t>(entry.mtime));
  header[156] = type;
  PutString(header, 157, 100, link);
  PutString(header, 257, 6, "ustar");
  PutString(header, 263, 2, "00");
  PutNumber(header, 329, 8, entry.dev_major);
  PutNumber(header, 337, 8, entry.dev_minor);
  std::memset(header.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : header) {
    sum += static_cast<unsigned char>(c);
  }
  if (entry.bad_checksum) {
    sum += 1;
  }
  (void)std::snprintf(header.data() + 148, 8, "%06o", sum);
  header[155] = ' ';
  return header;
}

TarEntry MakeEntry(std::string name, char type, std::string data) {
  TarEntry entry;
  entry.name = std::move(name);
  entry.type = type;
  entry.data = std::move(data);
  if (type == '5') {
    entry.mode = 0755;
  }
  if (type == '2') {
    entry.mode = 0777;
  }
  return entry;
}

TarBuilder& TarBuilder::File(std::string name, std::string data, uint32_t mode) {
  TarEntry entry = MakeEntry(std::move(name), '0', std::move(data));
  entry.mode = mode;
  return Add(entry);
}

TarBuilder& TarBuilder::Dir(std::string name, uint32_t mode) {
  TarEntry entry = MakeEntry(std::move(name), '5');
  entry.mode = mode;
  return Add(entry);
}

TarBuilder& TarBuilder::Symlink(std::string name, std::string target) {
  TarEntry entry = MakeEntry(std::move(name), '2');
  entry.link = std::move(target);
  return Add(entry);
}

TarBuilder& TarBuilder::Hardlink(std::string name, std::string target) {
  TarEntry entry = MakeEntry(std::move(name), '1');
  entry.link = std::move(target);
  return Add(entry);
}

TarBuilder& TarBuilder::Raw(const std::string& bytes) {
  out_.append(bytes);
  return *this;
}

TarBuilder& TarBuilder::Add(const TarEntry& entry) {
  std::string pax;
  std::string_view name = entry.name;
  std::string_view link = entry.link;
  if (entry.gnu_long_names) {
    TarEntry meta = MakeEntry("", 'L');
    meta.mode = 0;
    if (name.size() > 100) {
      std::string data = entry.name + '\0';
      out_.append(TarHeader(meta, "././@LongLink", "", 'L', data.size()));
      AppendPadded(out_, data);
      name = name.substr(0, 100);
    }
    if (link.size() > 100) {
      std::string data = entry.link + '\0';
      out_.append(TarHeader(meta, "././@LongLink", "", 'K', data.size()));
      AppendPadded(out_, data);
      link = link.substr(0, 100);
    }
  } else {
    if (name.size() > 100) {
      pax += PaxRecord("path", name);
      name = name.substr(0, 100);
    }
    if (link.size() > 100) {
      pax += PaxRecord("linkpath", link);
      link = link.substr(0, 100);
    }
  }
  for (const auto& [key, value] : entry.xattrs) {
    pax += PaxRecord("SCHILY.xattr." + key, value);
  }
  for (const auto& [key, value] : entry.pax) {
    pax += PaxRecord(key, value);
  }
  if (!pax.empty()) {
    out_.append(TarHeader(MakeEntry("", 'x'), "PaxHeaders/entry", "", 'x', pax.size()));
    AppendPadded(out_, pax);
  }
  out_.append(
      TarHeader(entry, name, link, entry.type, entry.declared_size.value_or(entry.data.size())));
  AppendPadded(out_, entry.data);
  return *this;
}

std::string TarBuilder::Finish(bool end_marker) const {
  std::string out = out_;
  if (end_marker) {
    out.append(2 * kBlock, '\0');
  }
  return out;
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    std::abort();
  }
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
    std::abort();
  }
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n) != 0) {
    std::abort();
  }
  out.resize(n);
  return out;
}

}  // namespace comet::testing
