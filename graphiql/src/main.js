// The GraphiQL explorer for ctrlgraph. Requests go to /graphql on the same origin; the token is
// entered in the headers editor as {"Authorization": "Bearer <token>"} (prefilled from the
// `token` query parameter or the token the investigation page keeps in sessionStorage).
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';

const params = new URLSearchParams(window.location.search);
const token = params.get('token') || window.sessionStorage.getItem('ctrlgraph.token') || '';
const headers = token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : '{\n  "Authorization": "Bearer <token>"\n}';

const fetcher = createGraphiQLFetcher({ url: new URL('/graphql', window.location.origin).toString() });

const defaultQuery = `# ctrlgraph: suspected actual-control groups.
# Put your token in the Headers tab below, then run:
query TopGroups {
  controlGroups(first: 10, filter: { status: UNREPORTED }) {
    totalCount
    edges { node { id size score criteria controller { id label } } }
  }
}
`;

createRoot(document.getElementById('root')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    defaultHeaders: headers,
    headerEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);
