"""How each paper table is printed: frames of tidy results in, an ``analysis.tables.PaperTable`` out."""
