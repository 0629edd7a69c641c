"""The fact model: scenarios, documents with line numbers, fact types and their encoding, reports; imports only `errors`."""
