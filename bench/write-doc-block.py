#!/usr/bin/env python3
"""Puts a benchmark table into docs/performance.md between
<!-- NAME:begin --> and <!-- NAME:end --> (appended under HEADING if absent),
with the date and core count of the run.

usage: bench/write-doc-block.py NAME HEADING TABLE"""
import datetime, re, sys

name, heading, table = sys.argv[1:4]
doc = "docs/performance.md"
text = open(doc).read()
cores = open("/proc/cpuinfo").read().count("processor")
block = (f"<!-- {name}:begin -->\nRun {datetime.date.today()} on this machine ({cores} cores):\n\n"
         + table + f"<!-- {name}:end -->")
pattern = re.compile(rf"<!-- {name}:begin -->.*?<!-- {name}:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: block, text)
else:
    text += f"\n## {heading}\n\n{block}\n"
open(doc, "w").write(text)
