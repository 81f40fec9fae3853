#!/usr/bin/env python3
"""Checks that the service's feeds and sitemap parse in real parsers.

Usage: check_feeds.py BASE_URL   (a server seeded with `frontdesk seed-demo`)

RSS and Atom go through feedparser, the parser behind many feed readers, which must report
no problem (bozo == 0). The JSON Feed must be version 1.1 with the required fields; the
sitemap must be well-formed sitemaps.org XML. Every link must be absolute.
"""

import json
import sys
import urllib.request
import xml.etree.ElementTree as ET

import feedparser

BASE = sys.argv[1].rstrip("/")


def fetch(path):
    with urllib.request.urlopen(BASE + path, timeout=10) as response:
        return response.headers.get("content-type", ""), response.read()


def absolute(url):
    return url.startswith("https://") or url.startswith("http://")


def check_xml_feed(path, expected_version):
    content_type, body = fetch(path)
    feed = feedparser.parse(body)
    assert not feed.bozo, f"{path}: {feed.get('bozo_exception')}"
    assert feed.version.startswith(expected_version), f"{path}: version {feed.version}"
    assert feed.entries, f"{path}: no entries"
    for entry in feed.entries:
        assert entry.get("title"), f"{path}: an entry has no title"
        assert absolute(entry.link), f"{path}: relative link {entry.link}"
        assert entry.get("published_parsed") or entry.get("updated_parsed"), f"{path}: no date"
    print(f"ok {path}: {feed.version}, {len(feed.entries)} entries ({content_type})")


def check_json_feed(path):
    content_type, body = fetch(path)
    feed = json.loads(body)
    assert feed["version"] == "https://jsonfeed.org/version/1.1", feed["version"]
    assert feed["title"] and feed["items"], path
    for item in feed["items"]:
        assert item["id"] and absolute(item["url"]) and (item.get("content_html") or item.get("content_text"))
    print(f"ok {path}: JSON Feed 1.1, {len(feed['items'])} items ({content_type})")


def check_sitemap():
    _, body = fetch("/sitemap.xml")
    root = ET.fromstring(body)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset", root.tag
    locs = [loc.text for loc in root.findall("s:url/s:loc", ns)]
    assert locs and all(absolute(loc) for loc in locs), locs
    assert len(locs) == len(set(locs)), "duplicate URLs"
    print(f"ok /sitemap.xml: {len(locs)} URLs")


for suffix in ("", "?tag=rust"):
    check_xml_feed("/v1/feeds/rss" + suffix, "rss20")
    check_xml_feed("/v1/feeds/atom" + suffix, "atom10")
    check_json_feed("/v1/feeds/json" + suffix)
check_sitemap()
