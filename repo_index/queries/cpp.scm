; Additions to the shipped C++ tags: namespaces, methods defined outside a nested scope, and calls
; through qualified names and templates.

(namespace_definition name: (namespace_identifier) @name) @definition.module

(function_declarator
  declarator: (qualified_identifier
    scope: (namespace_identifier) @local.scope
    name: (qualified_identifier
      scope: (namespace_identifier) @local.scope
      name: (identifier) @name))) @definition.method

(call_expression
  function: [
    (qualified_identifier name: (identifier) @name)
    (qualified_identifier name: (template_function name: (identifier) @name))
    (template_function name: (identifier) @name)
  ]) @reference.call
