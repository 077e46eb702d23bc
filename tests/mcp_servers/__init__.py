"""MCP servers for the tests, written with the mcp package's MCPServer (FastMCP in mcp 1.x)."""
