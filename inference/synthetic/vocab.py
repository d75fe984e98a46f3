"""Word lists for procedural screens and task text: labels people actually see in office software."""

from __future__ import annotations

BUTTONS = (
    "Save", "Cancel", "OK", "Apply", "Submit", "Delete", "Export", "Import", "Refresh", "Search", "Next",
    "Back", "Send", "Open", "Close", "Print", "Add", "Remove", "Edit", "Upload", "Download", "Reset",
    "Sign in", "Continue", "Preview", "Archive", "Share", "Copy link", "Approve", "Reject", "New",
)  # fmt: skip

FIELDS = (
    "Name", "Email", "Phone", "Address", "City", "Company", "Username", "Subject", "Amount", "Date",
    "Invoice no.", "Notes", "Title", "Zip code", "Country", "Reference", "Search", "First name", "Last name",
)  # fmt: skip

LIST_ITEMS = (
    "Invoices", "Reports", "Contacts", "Projects", "Documents", "Settings", "Orders", "Customers",
    "Archive", "Drafts", "Inbox", "Sent", "Templates", "Budget 2024", "Q3 summary", "Payroll", "Receipts",
    "Suppliers", "Meeting notes", "Timesheets", "Expenses", "Backups", "Photos", "Downloads", "Calendar",
)  # fmt: skip

LIST_HEADERS = ("Folders", "Recent files", "Accounts", "Categories", "Views", "Saved searches")

MENUS: dict[str, tuple[str, ...]] = {
    "File": ("New", "Open...", "Save", "Save as...", "Export", "Print", "Close"),
    "Edit": ("Undo", "Redo", "Cut", "Copy", "Paste", "Find", "Select all"),
    "View": ("Zoom in", "Zoom out", "Full screen", "Sidebar", "Status bar"),
    "Insert": ("Image", "Table", "Link", "Chart", "Page break"),
    "Format": ("Bold", "Italic", "Font...", "Paragraph", "Styles"),
    "Tools": ("Options", "Spelling", "Macros", "Word count"),
    "Window": ("Minimize", "Tile", "Cascade", "Next window"),
    "Help": ("Documentation", "Shortcuts", "Check for updates", "About"),
    "Go": ("Back", "Forward", "Home", "Go to line..."),
    "Data": ("Sort", "Filter", "Validate", "Refresh all"),
}

WINDOW_TITLES = (
    "Invoices - Ledger", "Mail", "Settings", "Customer record", "Untitled - Notes", "Report builder",
    "Orders", "Contacts", "File manager", "Expense claim", "New account", "Project tracker", "Checkout",
)  # fmt: skip

SENTENCES = (
    "All changes are saved automatically.", "Fields marked * are required.", "Last synced 5 minutes ago.",
    "Select a folder to see its contents.", "You have 3 unread messages.", "Draft saved at 10:42.",
    "Enter the details and press Submit.", "No items match your filter.", "Storage used: 4.2 GB of 15 GB.",
)  # fmt: skip

FIRST_NAMES = ("Jane", "John", "Maria", "Ahmed", "Wei", "Olga", "Lucas", "Priya", "Tom", "Sara", "Kenji", "Ana")
LAST_NAMES = ("Doe", "Smith", "Garcia", "Khan", "Chen", "Novak", "Silva", "Patel", "Brown", "Berg", "Ito", "Costa")
CITIES = ("Berlin", "Lisbon", "Toronto", "Osaka", "Austin", "Nairobi", "Krakow", "Lyon", "Porto", "Leeds")
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Stark Industries", "Wayne Enterprises")
WORDS = ("quarterly", "report", "invoice", "meeting", "budget", "update", "draft", "review", "client", "plan")
