#!/usr/bin/env python3
"""Builds definitions-fresh.jsonl from the probe listings under data/pk/<dir>/probe.json (see README, "fresh servers").
Each package was installed with `npm install --ignore-scripts <pkg>@<version>` in data/pk/<dir>/ and listed with
`npx tsx src/cli/main.ts probe --command "node <bin>" -e KEY=placeholder ... --json --no-store > data/pk/<dir>/probe.json`."""
import json, re
P = 'data/pk/'
S = [  # dir, package, version, repository, bin under node_modules, env passed (placeholders)
    ('airtable-mcp-server', 'airtable-mcp-server', '1.14.0', 'https://github.com/domdomegg/airtable-mcp-server', 'airtable-mcp-server/dist/main.js', ['AIRTABLE_API_KEY']),
    ('xeroapi__xero-mcp-server', '@xeroapi/xero-mcp-server', '0.0.17', 'https://github.com/XeroAPI/xero-mcp-server', '@xeroapi/xero-mcp-server/dist/index.js', ['XERO_CLIENT_ID', 'XERO_CLIENT_SECRET']),
    ('paddle__paddle-mcp', '@paddle/paddle-mcp', '0.1.6', 'https://github.com/PaddleHQ/paddle-mcp-server', '@paddle/paddle-mcp/build/index.js', ['PADDLE_API_KEY', 'PADDLE_ENVIRONMENT=sandbox']),
    ('ivotoby__contentful-management-mcp-server', '@ivotoby/contentful-management-mcp-server', '1.21.0', 'https://github.com/ivo-toby/contentful-mcp', '@ivotoby/contentful-management-mcp-server/bin/mcp-server.js', ['CONTENTFUL_MANAGEMENT_ACCESS_TOKEN', 'SPACE_ID', 'ENVIRONMENT_ID=master']),
    ('datastax__astra-db-mcp', '@datastax/astra-db-mcp', '1.2.2', 'https://github.com/datastax/astra-db-mcp', '@datastax/astra-db-mcp/build/index.js', ['ASTRA_DB_APPLICATION_TOKEN', 'ASTRA_DB_API_ENDPOINT']),
    ('shopify-mcp', 'shopify-mcp', '1.0.8', 'https://github.com/GeLi2001/shopify-mcp', 'shopify-mcp/dist/index.js', ['SHOPIFY_ACCESS_TOKEN', 'MYSHOPIFY_DOMAIN']),
    ('tacticlaunch__mcp-linear', '@tacticlaunch/mcp-linear', '1.4.3', 'https://github.com/tacticlaunch/mcp-linear', '@tacticlaunch/mcp-linear/dist/index.js', ['LINEAR_API_TOKEN']),
    ('keycloak-model-context-protocol', 'keycloak-model-context-protocol', '0.0.2', 'https://github.com/ChristophEnglisch/keycloak-model-context-protocol', 'keycloak-model-context-protocol/dist/index.js', ['KEYCLOAK_URL', 'KEYCLOAK_ADMIN', 'KEYCLOAK_ADMIN_PASSWORD']),
    ('mobilenext__mobile-mcp', '@mobilenext/mobile-mcp', '1.0.4', 'https://github.com/mobile-next/mobile-mcp', '@mobilenext/mobile-mcp/lib/index.js', []),
]


def pick(tools):
    # servers above the corpus cap of 120 are sampled evenly over their listing order, to 60 tools here
    # (one such server: mcp-linear, 198 tools) so that one server does not outweigh the other eight
    if len(tools) <= 120:
        return tools
    return [tools[(i * len(tools)) // 60] for i in range(60)]


out = []
for d, pkg, ver, repo, binp, env in S:
    tools = pick(json.load(open(P + d + '/probe.json'))['tools'])
    envs = ''.join(f' -e {e if "=" in e else e + "=placeholder"}' for e in env)
    src = (f'probed with mcp-census: npm install --ignore-scripts {pkg}@{ver}; probe --command "node node_modules/{binp}"'
           f'{envs} --json --no-store (2026-12-03, no network)')
    for t in tools:
        schema = t.get('inputSchema')
        params = list(schema['properties'].keys()) if schema and isinstance(schema.get('properties'), dict) else []
        out.append(dict(server=pkg, tool=t.get('name'), title=t.get('title'),
                        description=re.sub(r'\s+', ' ', (t.get('description') or '')).strip()[:2000],
                        params=params, annotations=t.get('annotations'), inputSchema=schema,
                        definition_source=src, repo=repo, commit=ver))
    print(pkg, len(tools))
open('eval/corpus/definitions-fresh.jsonl', 'w').write(''.join(json.dumps(o) + '\n' for o in out))
print(len(out))
