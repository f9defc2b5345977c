// membership_index.h: which entries carry which tag, and which namespace each key is in.
//
// Tag and prefix invalidation must touch only the entries they remove, never scan the
// cache. A group is a tag, or a namespace (a key up to and including its last separator,
// "feed:42:" for "feed:42:c9"). Namespaces sit in an ordered map, so a prefix finds its
// groups by a range, not a scan.
//   - A tag membership is a 20-byte node linked into its tag's list and into its entry's chain
//     (an entry has any number of tags).
//   - A namespace membership needs no node: an entry has at most one namespace, so it is three
//     per-slot words (group, prev, next) -- 12 bytes instead of a node and a chain head (24),
//     which is most of the per-entry cost for keys like "quote:AAPL".
// Entries without tags or namespace cost nothing here beyond those per-slot words, which exist
// only once some entry of the shard had a namespace.
//
// Invariants: a group exists exactly while it has members; an entry's chain lists each of its
// tags once; node 0, group 0 and slot 0 are "none"; ns_of_slot_[s] != 0 exactly while slot s
// is in that namespace's list.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "slot_table.h"

namespace tickcache {

class MembershipIndex {
 public:
  enum class Kind : uint8_t { kTag, kNamespace };

  MembershipIndex() { Clear(); }

  void Clear() {
    nodes_.assign(1, Node{});
    free_node_ = 0;
    groups_.assign(1, Group{});
    free_groups_.clear();
    tags_.clear();
    namespaces_.clear();
    first_of_slot_.clear();
    ns_links_.clear();
  }

  // Adds `slot` to the group; a second add of the same group is ignored. An entry has at most
  // one namespace: adding another replaces it.
  void Add(SlotId slot, Kind kind, std::string_view name) {
    uint32_t group = FindOrCreateGroup(kind, name);
    if (kind == Kind::kNamespace) {
      AddToNamespace(slot, group);
      return;
    }
    if (slot < first_of_slot_.size()) {
      for (uint32_t n = first_of_slot_[slot]; n != 0; n = nodes_[n].entry_next) {
        if (nodes_[n].group == group) return;
      }
    }
    uint32_t node = NewNode();
    nodes_[node] = Node{slot, group, 0, groups_[group].head, 0};
    if (groups_[group].head != 0) nodes_[groups_[group].head].prev = node;
    groups_[group].head = node;
    ++groups_[group].count;
    if (slot >= first_of_slot_.size())
      first_of_slot_.resize(std::max<size_t>(slot + 1, first_of_slot_.size() * 2), 0);
    nodes_[node].entry_next = first_of_slot_[slot];
    first_of_slot_[slot] = node;
  }

  // Drops every membership of `slot`; returns how many it had.
  uint32_t RemoveAll(SlotId slot) {
    uint32_t removed = RemoveFromNamespace(slot) ? 1 : 0;
    if (slot >= first_of_slot_.size()) return removed;
    uint32_t n = first_of_slot_[slot];
    first_of_slot_[slot] = 0;
    while (n != 0) {
      uint32_t next = nodes_[n].entry_next;
      Unlink(n);
      ++removed;
      n = next;
    }
    return removed;
  }

  uint32_t CountOf(SlotId slot) const {
    uint32_t count = slot < ns_links_.size() && ns_links_[slot].group != 0 ? 1 : 0;
    if (slot < first_of_slot_.size()) {
      for (uint32_t n = first_of_slot_[slot]; n != 0; n = nodes_[n].entry_next) ++count;
    }
    return count;
  }

  void AppendTagsOf(SlotId slot, std::vector<std::string>* out) const {
    if (slot >= first_of_slot_.size()) return;
    for (uint32_t n = first_of_slot_[slot]; n != 0; n = nodes_[n].entry_next) {
      const Group& g = groups_[nodes_[n].group];
      if (g.kind == Kind::kTag) out->push_back(g.name);
    }
  }

  void MembersOfTag(std::string_view tag, std::vector<SlotId>* out) const {
    auto it = tags_.find(std::string(tag));
    if (it != tags_.end()) AppendMembers(it->second, out);
  }

  // Calls visit(name, members) for every namespace whose name starts with `prefix`.
  template <typename Visit>
  void ForEachNamespaceStartingWith(std::string_view prefix, Visit&& visit) const {
    std::vector<SlotId> members;
    for (auto it = namespaces_.lower_bound(prefix);
         it != namespaces_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
         ++it) {
      members.clear();
      AppendMembers(it->second, &members);
      visit(std::string_view(it->first), members);
    }
  }

  size_t MemoryBytes() const {
    return nodes_.capacity() * sizeof(Node) + groups_.capacity() * sizeof(Group) +
           first_of_slot_.capacity() * sizeof(uint32_t) + ns_links_.capacity() * sizeof(NsLink) +
           (tags_.size() + namespaces_.size()) * 64;  // map nodes, roughly
  }

 private:
  struct Node {
    SlotId slot;
    uint32_t group;
    uint32_t prev, next;  // within the group
    uint32_t entry_next;  // the entry's next membership
  };
  // A slot's place in its namespace's list (slot ids, 0: none).
  struct NsLink {
    uint32_t group = 0;
    SlotId prev = 0, next = 0;
  };
  struct Group {
    std::string name;
    uint32_t head = 0;  // a node (tags) or a slot (namespaces)
    uint32_t count = 0;
    Kind kind = Kind::kTag;
  };

  uint32_t FindOrCreateGroup(Kind kind, std::string_view name) {
    if (kind == Kind::kTag) {
      auto [it, inserted] = tags_.try_emplace(std::string(name), 0);
      if (inserted) it->second = NewGroup(kind, name);
      return it->second;
    }
    auto it = namespaces_.find(name);
    if (it != namespaces_.end()) return it->second;
    uint32_t group = NewGroup(kind, name);
    namespaces_.emplace(std::string(name), group);
    return group;
  }

  uint32_t NewGroup(Kind kind, std::string_view name) {
    uint32_t id;
    if (!free_groups_.empty()) {
      id = free_groups_.back();
      free_groups_.pop_back();
    } else {
      id = static_cast<uint32_t>(groups_.size());
      groups_.emplace_back();
    }
    groups_[id] = Group{std::string(name), 0, 0, kind};
    return id;
  }

  uint32_t NewNode() {
    if (free_node_ != 0) {
      uint32_t n = free_node_;
      free_node_ = nodes_[n].next;
      return n;
    }
    nodes_.push_back(Node{});
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  void AddToNamespace(SlotId slot, uint32_t group) {
    if (slot >= ns_links_.size()) {
      ns_links_.resize(std::max<size_t>(slot + 1, ns_links_.size() * 2));
    }
    if (ns_links_[slot].group == group) return;
    RemoveFromNamespace(slot);
    Group& g = groups_[group];
    ns_links_[slot] = NsLink{group, 0, g.head};
    if (g.head != 0) ns_links_[g.head].prev = slot;
    g.head = slot;
    ++g.count;
  }

  bool RemoveFromNamespace(SlotId slot) {
    if (slot >= ns_links_.size() || ns_links_[slot].group == 0) return false;
    NsLink link = ns_links_[slot];
    Group& g = groups_[link.group];
    if (link.prev != 0) {
      ns_links_[link.prev].next = link.next;
    } else {
      g.head = link.next;
    }
    if (link.next != 0) ns_links_[link.next].prev = link.prev;
    ns_links_[slot] = NsLink{};
    ReleaseIfEmpty(link.group);
    return true;
  }

  // Drops a group that just lost a member, if that was its last.
  void ReleaseIfEmpty(uint32_t group) {
    Group& g = groups_[group];
    if (--g.count != 0) return;
    if (g.kind == Kind::kTag) {
      tags_.erase(g.name);
    } else {
      namespaces_.erase(g.name);
    }
    g = Group{};
    free_groups_.push_back(group);
  }

  void Unlink(uint32_t n) {
    Node& node = nodes_[n];
    Group& g = groups_[node.group];
    if (node.prev != 0) {
      nodes_[node.prev].next = node.next;
    } else {
      g.head = node.next;
    }
    if (node.next != 0) nodes_[node.next].prev = node.prev;
    ReleaseIfEmpty(node.group);
    node = Node{};
    node.next = free_node_;
    free_node_ = n;
  }

  void AppendMembers(uint32_t group, std::vector<SlotId>* out) const {
    if (groups_[group].kind == Kind::kNamespace) {
      for (SlotId s = groups_[group].head; s != 0; s = ns_links_[s].next) out->push_back(s);
      return;
    }
    for (uint32_t n = groups_[group].head; n != 0; n = nodes_[n].next)
      out->push_back(nodes_[n].slot);
  }

  std::vector<Node> nodes_;
  uint32_t free_node_ = 0;
  std::vector<Group> groups_;
  std::vector<uint32_t> free_groups_;
  std::unordered_map<std::string, uint32_t> tags_;
  std::map<std::string, uint32_t, std::less<>> namespaces_;
  std::vector<uint32_t> first_of_slot_;  // indexed by SlotId; grown on first tag
  std::vector<NsLink> ns_links_;         // indexed by SlotId; grown on first namespace
};

}  // namespace tickcache
