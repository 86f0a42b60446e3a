"""Analysis of finished batches: paired comparisons (compare), the HTML report (report, svg)."""
