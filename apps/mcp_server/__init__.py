"""The MCP server: GeraOS's API as Model Context Protocol tools, at /mcp (docs/DESIGN.md)."""
