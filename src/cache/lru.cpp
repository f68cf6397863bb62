#include "cache/lru.hpp"

namespace triage::cache {

std::optional<std::string> ByteLru::Get(const std::string& key, TimePoint now) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (it->second->expires && *it->second->expires <= now) {
    EraseLocked(it->second);
    return std::nullopt;
  }
  order_.splice(order_.begin(), order_, it->second);
  return it->second->value;
}

void ByteLru::Put(const std::string& key, std::string value, std::optional<TimePoint> expires) {
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) EraseLocked(it->second);
  Entry entry{key, std::move(value), expires};
  const auto cost = Cost(entry);
  if (cost > max_bytes_) return;
  while (bytes_ + cost > max_bytes_ && !order_.empty()) EraseLocked(std::prev(order_.end()));
  order_.push_front(std::move(entry));
  index_[key] = order_.begin();
  bytes_ += cost;
}

void ByteLru::EraseLocked(std::list<Entry>::iterator it) {
  bytes_ -= Cost(*it);
  index_.erase(it->key);
  order_.erase(it);
}

std::size_t ByteLru::Bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t ByteLru::Size() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

}  // namespace triage::cache
