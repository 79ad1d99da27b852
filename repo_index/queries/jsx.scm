; JSX components used in JavaScript and TSX files.

(jsx_opening_element
  name: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]
  (#match? @name "^[A-Z]")) @reference.class

(jsx_self_closing_element
  name: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]
  (#match? @name "^[A-Z]")) @reference.class
