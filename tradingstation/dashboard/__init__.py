"""Dashboard rendering (HTML, SVG charts, JSON, CSV, markdown) and publishing; pure Python."""
