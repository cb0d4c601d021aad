"""Packing slip files: one PDF per slip and a bulk PDF of them all."""

from __future__ import annotations

import pypdfium2 as pdfium

from oms_pipeline.documents.packing_slips import write_slips
from oms_pipeline.domain.packing_slips import packing_slips
from oms_pipeline_tests.support.packing_slips import PLANNED
from oms_pipeline_tests.support.packing_slips import slip_order as _order


def test_files_one_per_slip_and_a_bulk(tmp_path):
    slips = packing_slips(_order(), PLANNED, "Oms Sandbox")
    paths, bulk = write_slips(slips, tmp_path / "2026-03-02", "bulk_run1")
    assert len(paths) == 2 and all(p.stat().st_size > 500 for p in paths)
    assert len(pdfium.PdfDocument(bulk.read_bytes())) == 2
    assert bulk.name == "bulk_run1.pdf"
