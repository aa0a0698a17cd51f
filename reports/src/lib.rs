//! Renderers from the results model to JSON, JUnit, Markdown and HTML. Not yet built; see the README roadmap.
